package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/skyfence/skyfence/world"
)

// dataset is one input file and the output it becomes.
type dataset struct {
	Res    string // "10m" or "110m"
	Strict bool   // every rule and territory row must match
}

var datasets = []dataset{{"10m", true}, {"110m", false}}

func main() {
	src := flag.String("src", "tools/worldgen/node_modules", "folder holding the world-atlas and i18n-iso-countries packages")
	out := flag.String("out", "world/data", "folder to write countries-*.bin to")
	survey := flag.Bool("survey", false, "list polygons far from their region's largest one")
	flag.Parse()
	if err := run(*src, *out, *survey, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "worldgen:", err)
		os.Exit(1)
	}
}

func run(src, out string, survey bool, stdout, stderr io.Writer) error {
	numeric, err := readNumericCodes(filepath.Join(src, "i18n-iso-countries", "codes.json"))
	if err != nil {
		return fmt.Errorf("%v (run npm ci in tools/worldgen, and worldgen from the repository root)", err)
	}
	version, err := packageVersion(filepath.Join(src, "world-atlas", "package.json"))
	if err != nil {
		return err
	}
	for _, ds := range datasets {
		name := "countries-" + ds.Res + ".json"
		topo, err := readTopology(filepath.Join(src, "world-atlas", name))
		if err != nil {
			return err
		}
		tr, width, err := topo.transform()
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		arcs, err := topo.decodeArcs()
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		raw, err := topo.features(arcs)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		feats, st := cleanFeatures(name, raw, width, stderr)
		regions, splits, err := assign(feats, numeric, tr, ds.Strict)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		f := &world.File{
			Source:    fmt.Sprintf("world-atlas %s %s (Natural Earth 1:%s admin-0, public domain)", version, name, ds.Res),
			Transform: tr,
			Regions:   regions,
		}
		land, err := world.Encode(f)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		grid, sst, err := newSeaGrid(f)
		if err != nil {
			return fmt.Errorf("%s: territorial sea: %v", name, err)
		}
		if f.Sea, err = grid.sea(len(f.Regions)); err != nil {
			return fmt.Errorf("%s: territorial sea: %v", name, err)
		}
		b, err := world.Encode(f)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		path := filepath.Join(out, "countries-"+ds.Res+".bin")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
		printSummary(stdout, path, f, len(raw), width, st, splits, len(b))
		printSea(stdout, f.Sea, sst, len(b)-len(land))
		if survey {
			printSurvey(stdout, f)
		}
	}
	return nil
}
