package httpapi

import (
	"html/template"
	"io"
	"net/http"

	"github.com/skyfence/skyfence/control"
)

// transparencyPage renders the public transparency report for people.
var transparencyPage = template.Must(template.New("t").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>skyfence transparency report</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%;margin:1rem 0 2rem}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f3f3f3}caption{text-align:left;font-weight:600;margin-bottom:.4rem}.n{text-align:right}
</style></head><body>
<h1>Transparency report</h1>
<p>Where satellite internet service is restricted, why, and every request to change where it works, granted or not.
Generated {{.GeneratedAt.Format "2 January 2006, 15:04 MST"}} from the policy in force (version <code>{{.Policy}}</code>).
Every change of policy is reviewed and approved by at least two people other than its author, or marked below as an emergency change
(reviewed after the fact), or is the return of the previous policy when an approved change's time limit ends. A rollback is a change like any other.
This report holds no personal data: no terminal, account or person is named.</p>
{{if .OverdueReviews}}<p role="alert" style="border:2px solid #b00020;padding:.6rem 1rem;background:#fdecee"><strong>{{.OverdueReviews}} emergency
change{{if gt .OverdueReviews 1}}s{{end}} put in force without prior review {{if gt .OverdueReviews 1}}are{{else}}is{{end}} past {{if gt .OverdueReviews 1}}their{{else}}its{{end}} review deadline</strong>
and not yet reviewed by two people (marked <strong>review overdue</strong> below).</p>{{end}}
<h2>Restrictions in force</h2>
<table><thead><tr><th>Region</th><th>Measure</th><th>Since</th><th>By change</th><th>Requested by (category)</th><th class="n">Terminals that lost service</th></tr></thead><tbody>
{{range .Restrictions}}<tr><td>{{if .Name}}{{.Name}} ({{.Region}}){{else}}{{.Region}}{{end}}</td><td>{{.Measure}}</td>
<td>{{if .Since}}{{.Since}}{{else}}before the record{{end}}</td><td>{{if .ChangeID}}{{.Title}} <small>({{.ChangeID}})</small>{{end}}</td>
<td>{{.Category}}</td><td class="n">{{if ge .TerminalsAffected 0}}{{.TerminalsAffected}}{{else}}not measured{{end}}</td></tr>
{{else}}<tr><td colspan="6">No restrictions.</td></tr>{{end}}
</tbody></table>
<h2>Requests to change where service works</h2>
<table><thead><tr><th>Change</th><th>Requested by</th><th>Category</th><th>Outcome</th><th class="n">Approvals</th><th>Proposed</th><th>In force</th><th>Ended</th></tr></thead><tbody>
{{range .Requests}}<tr><td>{{.Title}} <small>({{.ChangeID}})</small>{{if .Emergency}} <strong>emergency</strong>{{end}}{{if .ReviewOverdue}} <strong>review overdue</strong> (due {{.ReviewBy.Format "2006-01-02 15:04 MST"}}){{end}}
{{if .RollsBack}}<br><small>Rolls back {{.RollsBack}}: {{.Reason}}</small>{{end}}{{if .EndedBy}}<br><small>Ended by {{.EndedBy}}</small>{{end}}</td><td>{{.Requester}}</td><td>{{.Category}}</td><td>{{.Outcome}}</td>
<td class="n">{{.Approvals}}</td><td>{{if not .ProposedAt.IsZero}}{{.ProposedAt.Format "2006-01-02"}}{{end}}</td>
<td>{{if not .InForce.IsZero}}{{.InForce.Format "2006-01-02"}}{{end}}</td><td>{{if not .Ended.IsZero}}{{.Ended.Format "2006-01-02"}}{{end}}</td></tr>
{{else}}<tr><td colspan="8">No requests yet.</td></tr>{{end}}
</tbody></table>
<p>The same report as data: <a href="/v1/transparency">/v1/transparency</a> (JSON).</p>
</body></html>
`))

// RenderTransparency writes the report as an HTML page.
func RenderTransparency(w io.Writer, t *control.Transparency) error {
	return transparencyPage.Execute(w, t)
}

func (s *Server) transparencyJSON(w http.ResponseWriter, r *http.Request) error {
	t, err := s.svc.Transparency(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) transparencyHTML(w http.ResponseWriter, r *http.Request) error {
	t, err := s.svc.Transparency(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return RenderTransparency(w, t)
}
