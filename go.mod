module github.com/ghmicons/ghmicons

go 1.26.0

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/spf13/pflag v1.0.10
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)
