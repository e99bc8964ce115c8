module snowbench

go 1.19
