package httpapi_test

import "testing"

// TestChangesPaged: GET /v1/changes says where its next page starts (here
// none: the store holds the initial policy only) and refuses a cursor it
// did not give, naming the field.
func TestChangesPaged(t *testing.T) {
	e := newEnv(t)
	var page struct {
		Changes    []struct{ ID string }
		NextCursor *string `json:"next_cursor"`
	}
	e.must("admin", "GET", "/v1/changes?limit=1", nil, 200, &page)
	if len(page.Changes) != 1 || page.NextCursor == nil || *page.NextCursor != "" {
		t.Errorf("the one change in pages of 1: %+v, want it and an empty next_cursor", page)
	}
	e.wantError("admin", "GET", "/v1/changes?cursor=chg-1", nil, 400, "invalid", "cursor")
}
