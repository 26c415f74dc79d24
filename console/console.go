// Package console serves skyfence's web pages: the public availability map
// at /map and the operators' console at /console/, with their assets under
// /assets/. The pages are built from web/ (npm run build) into dist, which
// is committed and embedded, so the binary serves them with no npm step.
// They read everything through the HTTP API: the map GET /v1/map, the
// console every route its key's role allows.
//
// console owns the pages and their assets. It imports only the standard
// library: never the service or httpapi, which it reaches, like any client,
// through the API.
package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed dist
var dist embed.FS

// Mount registers the pages on a mux-like mount function (e.g.
// httpapi.Server.Mount): GET / redirects to the console, GET /map is the
// public map, GET /console/ the console, GET /assets/ their files.
func Mount(mount func(pattern string, h http.Handler)) {
	files := newAssets()
	mount("GET /{$}", http.RedirectHandler("/console/", http.StatusFound))
	mount("GET /map", files.page("map.html"))
	mount("GET /console/", files.page("console.html"))
	mount("GET /assets/", files)
}

// assets serves the embedded build, each file with a content ETag and,
// when the client takes it, gzipped (compressed once, on first use).
type assets struct {
	mu    sync.Mutex
	cache map[string]*file
}

type file struct {
	name       string
	plain, gz  []byte
	etag, ctyp string
}

func newAssets() *assets { return &assets{cache: map[string]*file{}} }

func (a *assets) get(name string) (*file, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if f, ok := a.cache[name]; ok {
		return f, nil
	}
	b, err := fs.ReadFile(dist, "dist/"+name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	f := &file{name: name, plain: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	f.ctyp = mime.TypeByExtension(path.Ext(name))
	if path.Ext(name) == ".mjs" {
		f.ctyp = "text/javascript; charset=utf-8"
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	if gz.Len() < len(b) {
		f.gz = gz.Bytes()
	}
	a.cache[name] = f
	return f, nil
}

// ServeHTTP serves /assets/NAME.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if !strings.HasPrefix(name, "assets/") {
		http.NotFound(w, r)
		return
	}
	a.serve(w, r, name)
}

// page serves one HTML page of the build.
func (a *assets) page(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.serve(w, r, name) })
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request, name string) {
	f, err := a.get(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctyp)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache") // revalidate: the ETag makes that cheap
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; worker-src 'self' blob:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
	h.Add("Vary", "Accept-Encoding")
	body := f.plain
	if f.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
