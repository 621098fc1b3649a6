module goro-benches/go

go 1.19
