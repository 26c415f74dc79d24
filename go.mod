module github.com/skyfence/skyfence

go 1.26

require (
	github.com/golang/geo v0.0.0-20260818125358-b200a1149890
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	github.com/tidwall/geojson v1.4.5
	github.com/tidwall/rtree v1.10.0
	go.yaml.in/yaml/v3 v3.0.4
)

require (
	github.com/tidwall/geoindex v1.7.0 // indirect
	golang.org/x/text v0.14.0 // indirect
)
