module github.com/ghmicons/ghmicons

go 1.25
