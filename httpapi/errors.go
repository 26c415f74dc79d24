package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/fixwire"
)

// statusOf maps error codes to HTTP statuses: the one place that does.
var statusOf = map[string]int{
	skyfence.EINVALID:        http.StatusBadRequest,
	skyfence.EUNAUTHORIZED:   http.StatusUnauthorized,
	skyfence.EFORBIDDEN:      http.StatusForbidden,
	skyfence.ENOTFOUND:       http.StatusNotFound,
	skyfence.ECONFLICT:       http.StatusConflict,
	skyfence.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	skyfence.EUNSUPPORTED:    http.StatusUnsupportedMediaType,
	skyfence.EUNAVAILABLE:    http.StatusServiceUnavailable,
	skyfence.ENOTIMPLEMENTED: http.StatusNotImplemented,
	skyfence.EINTERNAL:       http.StatusInternalServerError,
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func detailOf(err error) errorDetail {
	d := errorDetail{Code: skyfence.ErrorCode(err), Message: skyfence.ErrorMessage(err)}
	var e *skyfence.Error
	if errors.As(err, &e) {
		d.Field = e.Field
	}
	return d
}

func writeError(w http.ResponseWriter, err error) {
	d := detailOf(err)
	status, ok := statusOf[d.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if d.Code == skyfence.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="skyfence"`)
	}
	_ = writeJSON(w, status, errorBody{d})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	return enc.Encode(v)
}

// decode reads one JSON object from the body into v, strictly: unknown
// fields, trailing data and oversize bodies are errors naming what is wrong.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return skyfence.Errorf(skyfence.EINVALID, "unexpected data after the JSON object")
	}
	return nil
}

// decodeOptional is decode for bodies that may be left empty (actions
// whose fields are all optional).
func decodeOptional(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return decodeBytes(b, v)
}

// decodeBytes is decode for a body already read.
func decodeBytes(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return skyfence.Errorf(skyfence.EINVALID, "unexpected data after the JSON object")
	}
	return nil
}

// jsonError turns a decoding error into an *skyfence.Error with the field:
// a body over the limit, else what fixwire says of every JSON body that
// encoding/json refuses.
func jsonError(err error) error {
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		return skyfence.Errorf(skyfence.ETOOLARGE, "request body larger than %d bytes", tooBig.Limit)
	}
	return fixwire.JSONError(err)
}

func badQuery(name, format string, args ...any) error {
	return skyfence.FieldErrorf(skyfence.EINVALID, name, "%s", fmt.Sprintf(format, args...))
}
