module github.com/jobctl/jobctl

go 1.26.8

require (
	github.com/bndr/gojenkins v1.2.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/hashicorp/go-version v1.9.0 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/cobra v1.10.2 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	golang.org/x/net v0.0.0-20210924151903-3ad01bbaa167 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
