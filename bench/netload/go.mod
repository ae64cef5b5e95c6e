module goroutines.bench/netload

go 1.19
