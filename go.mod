module github.com/skyfence/skyfence

go 1.26
