module goroutines.bench/reference

go 1.19
