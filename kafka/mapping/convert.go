package mapping

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/lakenode/lakenode/tables/schema"
)

// convertJSON converts a JSON value (not null) to a declared type.
func convertJSON(v *fastjson.Value, t schema.Type) (schema.Value, error) {
	switch v.Type() {
	case fastjson.TypeString:
		s := string(v.GetStringBytes())
		if t == schema.TypeString {
			return schema.Str(s), nil
		}
		return convertText(s, t)
	case fastjson.TypeNumber:
		raw := string(v.MarshalTo(nil))
		switch t {
		case schema.TypeString:
			return schema.Str(raw), nil
		case schema.TypeBool:
			return schema.Null, fmt.Errorf("does not fit bool")
		}
		return convertText(raw, t)
	case fastjson.TypeTrue, fastjson.TypeFalse:
		b := v.Type() == fastjson.TypeTrue
		switch t {
		case schema.TypeBool:
			return schema.Bool(b), nil
		case schema.TypeString:
			return schema.Str(strconv.FormatBool(b)), nil
		}
		return schema.Null, fmt.Errorf("does not fit %s", t)
	case fastjson.TypeObject, fastjson.TypeArray:
		if t == schema.TypeString {
			return schema.Str(string(v.MarshalTo(nil))), nil
		}
		return schema.Null, fmt.Errorf("is a JSON %s and does not fit %s", v.Type(), t)
	}
	return schema.Null, fmt.Errorf("does not fit %s", t)
}

// convertText converts text to a declared type: numeric strings convert,
// anything that does not fit is an error.
func convertText(s string, t schema.Type) (schema.Value, error) {
	switch t {
	case schema.TypeString:
		return schema.Str(s), nil
	case schema.TypeInt:
		return parseInt(strings.TrimSpace(s))
	case schema.TypeFloat:
		f, err := parseFloat(strings.TrimSpace(s))
		if err != nil {
			return schema.Null, err
		}
		return schema.Float(f), nil
	case schema.TypeBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return schema.Bool(true), nil
		case "false":
			return schema.Bool(false), nil
		}
		return schema.Null, errors.New("does not fit bool (true or false)")
	case schema.TypeTimestamp:
		us, err := schema.ParseTimestamp(strings.TrimSpace(s))
		if err != nil {
			return schema.Null, err
		}
		return schema.TimestampMicros(us), nil
	}
	return schema.Null, fmt.Errorf("has no type")
}

func parseInt(s string) (schema.Value, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return schema.Int(i), nil
	}
	f, err := parseFloat(s)
	if err != nil {
		return schema.Null, errors.New("does not fit int")
	}
	if f != math.Trunc(f) {
		return schema.Null, errors.New("does not fit int (it has a fraction)")
	}
	if f < -9.223372036854775e18 || f >= 9.223372036854775e18 {
		return schema.Null, errors.New("does not fit int (out of range)")
	}
	return schema.Int(int64(f)), nil
}

func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, errors.New("does not fit float (out of range)")
		}
		return 0, errors.New("does not fit float")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("does not fit float (not a finite number)")
	}
	return f, nil
}
