module snowbench/echo

go 1.19
