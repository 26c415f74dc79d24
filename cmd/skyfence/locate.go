package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world"
	"github.com/skyfence/skyfence/zone"
)

const locateUsage = `usage: skyfence locate [--points FILE] [--zones FILE.geojson] [--place] [--res 10m|110m]

Reads "lat,lon" lines (a header line is allowed) from standard input or
--points and writes "lat,lon,iso2" lines in the same order: iso2 is the
country or territory whose land or territorial sea (12 nautical miles)
contains the point, empty on the high seas. --zones adds a "zones" column
with the ids of the custom zones containing the point, joined by "|";
--place adds a "place" column, land or sea.

A malformed line is reported on standard error with its line number and left
out of the output; the other lines are still answered, and the exit status
is 1 at the end.

flags:
`

func runLocate(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("locate", flag.ContinueOnError)
	points := fs.String("points", "", "read lat,lon lines from `FILE` instead of standard input")
	zonesFile := fs.String("zones", "", "GeoJSON `FILE` of custom zones to answer too")
	place := fs.Bool("place", false, "add a place column: land or sea")
	res := fs.String("res", "10m", "boundary `resolution`: 10m or 110m")
	fs.Usage = func() { fmt.Fprint(e.stderr, locateUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "skyfence locate: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	r, err := world.ParseResolution(*res)
	if err != nil {
		return err
	}
	l := &locator{place: *place, stderr: e.stderr}
	if *zonesFile != "" {
		if err := l.loadZones(*zonesFile); err != nil {
			return err
		}
	}
	data, err := world.Load(r)
	if err != nil {
		return err
	}
	if l.atlas, err = atlas.New(data, geoindex.Options{}); err != nil {
		return err
	}
	in := e.stdin
	if *points != "" {
		f, err := os.Open(*points)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	bad, err := l.run(ctx, in, e.stdout)
	if err != nil {
		return err
	}
	if bad > 0 {
		fmt.Fprintf(e.stderr, "skyfence locate: %d malformed lines left out\n", bad)
		return exitError{1}
	}
	return nil
}

// locator streams lat,lon lines through an atlas in batches.
type locator struct {
	atlas    *atlas.Atlas
	zones    *geoindex.Index
	zoneText [][]byte // the zones column of each zone set
	place    bool
	stderr   io.Writer
}

func (l *locator) loadZones(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	zs, warns, err := zone.Parse(data, file)
	for _, w := range warns {
		fmt.Fprintf(l.stderr, "warning: %s\n", w)
	}
	if err != nil {
		return err
	}
	shapes := make([]geoindex.Shape, len(zs))
	for i, z := range zs {
		shapes[i] = z.Shape()
	}
	if l.zones, err = geoindex.Build(shapes, geoindex.Options{}); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	l.zoneText = make([][]byte, l.zones.NumSets())
	for id := range l.zoneText {
		var ids []string
		for _, r := range l.zones.Regions(geoindex.SetID(id)) {
			ids = append(ids, zs[r].ID)
		}
		l.zoneText[id] = []byte(strings.Join(ids, "|"))
	}
	return nil
}

const locateBatch = 4096

// batch holds parsed lines until they are answered together.
type batch struct {
	text   []byte // the lat,lon text of each line, as given
	ends   []int  // end of each line's text in text
	pts    []geoindex.Point
	places []atlas.Place
	ids    []geoindex.SetID
	zones  []geoindex.SetID
}

// run answers every line of in. It returns the number of malformed lines.
func (l *locator) run(ctx context.Context, in io.Reader, out io.Writer) (int, error) {
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriterSize(out, 1<<20)
	b := &batch{
		places: make([]atlas.Place, locateBatch),
		ids:    make([]geoindex.SetID, locateBatch),
		zones:  make([]geoindex.SetID, locateBatch),
	}
	bad := 0
	for lineNo := 1; ; lineNo++ {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			fmt.Fprintf(l.stderr, "line %d: longer than %d bytes\n", lineNo, r.Size())
			bad++
		} else if len(line) > 0 {
			text := bytes.TrimRight(line, "\r\n")
			lat, lon, perr := parseLatLon(text)
			switch {
			case perr == nil:
				b.add(text, lon, lat)
			case lineNo == 1 && isHeader(text):
				l.writeHeader(w)
			case len(bytes.TrimSpace(text)) == 0:
				// Blank lines carry nothing: skip them silently.
			default:
				fmt.Fprintf(l.stderr, "line %d: %v\n", lineNo, perr)
				bad++
			}
		}
		if len(b.pts) == locateBatch || (err != nil && len(b.pts) > 0) {
			if cerr := ctx.Err(); cerr != nil {
				return bad, cerr
			}
			l.answer(b, w)
		}
		if err == io.EOF {
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return bad, err
		}
	}
	return bad, w.Flush()
}

func (b *batch) add(text []byte, lon, lat float64) {
	b.text = append(b.text, text...)
	b.ends = append(b.ends, len(b.text))
	b.pts = append(b.pts, geoindex.Point{Lon: lon, Lat: lat})
}

func (l *locator) writeHeader(w *bufio.Writer) {
	w.WriteString("lat,lon,iso2")
	if l.zones != nil {
		w.WriteString(",zones")
	}
	if l.place {
		w.WriteString(",place")
	}
	w.WriteByte('\n')
}

// answer writes the lines of b with their answers and empties b. Every
// position in b is valid, so the lookups cannot fail.
func (l *locator) answer(b *batch, w *bufio.Writer) {
	n := len(b.pts)
	_ = l.atlas.LocateBatch(b.pts, b.places[:n], b.ids[:n])
	if l.zones != nil {
		_ = l.zones.LookupBatch(b.pts, b.zones[:n])
	}
	start := 0
	for i := 0; i < n; i++ {
		w.Write(b.text[start:b.ends[i]])
		start = b.ends[i]
		w.WriteByte(',')
		w.WriteString(l.atlas.Code(b.places[i].Country))
		if l.zones != nil {
			w.WriteByte(',')
			w.Write(l.zoneText[b.zones[i]])
		}
		if l.place {
			if b.places[i].Land {
				w.WriteString(",land")
			} else {
				w.WriteString(",sea")
			}
		}
		w.WriteByte('\n')
	}
	b.text, b.ends, b.pts = b.text[:0], b.ends[:0], b.pts[:0]
}

// parseLatLon parses "lat,lon" with optional spaces around each number.
func parseLatLon(line []byte) (lat, lon float64, err error) {
	i := bytes.IndexByte(line, ',')
	if i < 0 || bytes.IndexByte(line[i+1:], ',') >= 0 {
		return 0, 0, fmt.Errorf("want \"lat,lon\", got %q", line)
	}
	if lat, err = parseCoord(line[:i], "latitude", 90); err != nil {
		return 0, 0, err
	}
	if lon, err = parseCoord(line[i+1:], "longitude", 180); err != nil {
		return 0, 0, err
	}
	return lat, lon, nil
}

func parseCoord(field []byte, what string, limit float64) (float64, error) {
	field = bytes.TrimSpace(field)
	if len(field) == 0 {
		return 0, fmt.Errorf("%s is empty", what)
	}
	// The string aliases the read buffer only for this call; the error
	// below copies it.
	v, err := strconv.ParseFloat(unsafe.String(&field[0], len(field)), 64)
	if err != nil || !(v >= -limit && v <= limit) {
		return 0, fmt.Errorf("%s %q is not a number in [-%v, %v]", what, field, limit, limit)
	}
	return v, nil
}

// isHeader reports whether a first line names columns rather than giving
// numbers.
func isHeader(line []byte) bool {
	f := bytes.ToLower(bytes.TrimSpace(line))
	return bytes.HasPrefix(f, []byte("lat")) || bytes.HasPrefix(f, []byte("\"lat"))
}
