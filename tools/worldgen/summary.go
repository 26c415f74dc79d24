package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/skyfence/skyfence/world"
)

// packageVersion reads the version field of an npm package.json.
func packageVersion(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var p struct{ Version string }
	if err := json.Unmarshal(b, &p); err != nil || p.Version == "" {
		return "", fmt.Errorf("%s: no version (%v)", path, err)
	}
	return p.Version, nil
}

// printSummary prints what one data set became.
func printSummary(w io.Writer, path string, f *world.File, features int, width int32, st ringStats, splits []split, size int) {
	polys, rings, verts := 0, 0, 0
	for _, r := range f.Regions {
		polys += len(r.Polygons)
		for _, p := range r.Polygons {
			rings += len(p)
			for _, ring := range p {
				verts += len(ring)
			}
		}
	}
	fmt.Fprintf(w, "%s: %s\n", path, f.Source)
	fmt.Fprintf(w, "  %d features -> %d regions, %d polygons, %d rings, %d vertices, %d bytes\n",
		features, len(f.Regions), polys, rings, verts, size)
	names := make([]string, 0, len(st.Jumps))
	for n := range st.Jumps {
		names = append(names, n)
	}
	sort.Strings(names)
	jumps := ""
	for _, n := range names {
		jumps += fmt.Sprintf(" %s %d,", n, st.Jumps[n])
	}
	fmt.Fprintf(w, "  360 degrees = %d units; antimeridian jumps unwrapped:%s; %d polar rings; %d rings dropped; %d widened; %d zero-area rings kept; %d misoriented\n",
		width, strings.TrimSuffix(jumps, ","), st.Polar, st.Dropped, st.Widened, st.ZeroArea, st.Misorients)
	for _, s := range splits {
		fmt.Fprintf(w, "  split %s -> %s %-26s %d polygons\n", s.Sovereign, s.Code, s.Name, s.Parts)
	}
}

// printSea prints what the territorial sea became.
func printSea(w io.Writer, sea *world.Sea, st seaStats, size int) {
	fmt.Fprintf(w, "  territorial sea: %d land cells (%d of them only by a vertex), %d belt cells; %d mixed blocks, %.1f MB in memory; %d bytes in the file\n",
		st.Land, st.Stamped, st.Belt, sea.MixedBlocks(), float64(sea.Size())/(1<<20), size)
}

// printSurvey lists, for each region, the polygons whose box lies more than
// 3 degrees from the box of the region's largest polygon, grouped by whole
// degree: where to look for territories the data folds into a sovereign.
func printSurvey(w io.Writer, f *world.File) {
	t := f.Transform
	for _, r := range f.Regions {
		if len(r.Polygons) < 2 {
			continue
		}
		big, bigArea := 0, int64(0)
		for i, p := range r.Polygons {
			if a := abs(area2(p[0])); a > bigArea {
				big, bigArea = i, a
			}
		}
		main := box(r.Polygons[big][0], t)
		groups := map[[2]int]int{}
		for _, p := range r.Polygons {
			b := box(p[0], t)
			if gap(main, b) > 3 {
				groups[[2]int{int(math.Floor((b[0] + b[2]) / 2)), int(math.Floor((b[1] + b[3]) / 2))}]++
			}
		}
		keys := make([][2]int, 0, len(groups))
		for k := range groups {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
		})
		for _, k := range keys {
			fmt.Fprintf(w, "  survey %s %-28s main %6.1f..%6.1f %5.1f..%5.1f  far part near %5d %4d (%d polygons)\n",
				r.Code, r.Name, main[0], main[2], main[1], main[3], k[0], k[1], groups[k])
		}
	}
}

// box returns min lon, min lat, max lon, max lat of r.
func box(r world.QRing, t world.Transform) [4]float64 {
	b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, q := range r {
		lon, lat := t.Lon(q.X), t.Lat(q.Y)
		b[0], b[1] = min(b[0], lon), min(b[1], lat)
		b[2], b[3] = max(b[2], lon), max(b[3], lat)
	}
	return b
}

// gap is the larger of the lon and lat distances between boxes a and b.
func gap(a, b [4]float64) float64 {
	dx := max(0, b[0]-a[2], a[0]-b[2])
	dy := max(0, b[1]-a[3], a[1]-b[3])
	return max(dx, dy)
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
