package sql

import (
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/lakenode/lakenode/tables/schema"
)

// typeOf is the type every non-NULL value of e has, as the executor
// computes it, or TypeInvalid when it can be more than one (a client is
// then told text). It follows the evaluator: integer arithmetic stays
// integer, a float anywhere makes a float, aggregates keep their
// argument's type except count (int) and avg (float).
func (c *compiler) typeOf(e sqlparser.Expr) schema.Type {
	switch x := e.(type) {
	case *sqlparser.ColName:
		name := x.Name.Lowered()
		for _, col := range c.t.Columns {
			if strings.EqualFold(col.Name, name) {
				return col.Type
			}
		}
	case *sqlparser.Literal:
		if v, err := literal(x); err == nil {
			return v.Type
		}
	case sqlparser.BoolVal, *sqlparser.ComparisonExpr, *sqlparser.AndExpr, *sqlparser.OrExpr, *sqlparser.NotExpr, *sqlparser.IsExpr, *sqlparser.BetweenExpr:
		// Truth values are 1 and 0, as in SQLite and MySQL.
		return schema.TypeInt
	case *sqlparser.BinaryExpr:
		return arithType(c.typeOf(x.Left), c.typeOf(x.Right))
	case *sqlparser.UnaryExpr:
		if x.Operator == sqlparser.UMinusOp {
			return arithType(schema.TypeInt, c.typeOf(x.Expr))
		}
		return c.typeOf(x.Expr)
	case *sqlparser.IntervalDateExpr, *sqlparser.CurTimeFuncExpr:
		return schema.TypeTimestamp
	case *sqlparser.ExtractFuncExpr, *sqlparser.CountStar, *sqlparser.Count:
		return schema.TypeInt
	case *sqlparser.Avg:
		return schema.TypeFloat
	case *sqlparser.Sum:
		if t := c.typeOf(x.Arg); t == schema.TypeInt || t == schema.TypeFloat {
			return t
		}
	case *sqlparser.Min:
		return c.typeOf(x.Arg)
	case *sqlparser.Max:
		return c.typeOf(x.Arg)
	case *sqlparser.CastExpr:
		return castType(x.Type)
	case *sqlparser.ConvertExpr:
		return castType(x.Type)
	case *sqlparser.FuncExpr:
		return c.funcType(x)
	}
	return schema.TypeInvalid
}

func castType(t *sqlparser.ConvertType) schema.Type {
	typ := strings.ToLower(t.Type)
	switch {
	case strings.Contains(typ, "int") || typ == "signed" || typ == "unsigned":
		return schema.TypeInt
	case typ == "double" || typ == "float" || typ == "decimal" || typ == "real":
		return schema.TypeFloat
	case strings.Contains(typ, "char") || typ == "text":
		return schema.TypeString
	case typ == "datetime" || typ == "timestamp":
		return schema.TypeTimestamp
	}
	return schema.TypeInvalid
}

func arithType(a, b schema.Type) schema.Type {
	intLike := func(t schema.Type) bool {
		return t == schema.TypeInt || t == schema.TypeBool || t == schema.TypeTimestamp
	}
	switch {
	case a == schema.TypeInvalid || b == schema.TypeInvalid || a == schema.TypeString || b == schema.TypeString:
		return schema.TypeInvalid
	case a == schema.TypeFloat || b == schema.TypeFloat:
		return schema.TypeFloat
	case intLike(a) && intLike(b):
		return schema.TypeInt
	}
	return schema.TypeInvalid
}

// funcType is the type of a function's or aggregate's values.
func (c *compiler) funcType(x *sqlparser.FuncExpr) schema.Type {
	arg := func(i int) schema.Type {
		if i >= len(x.Exprs) {
			return schema.TypeInvalid
		}
		return c.typeOf(x.Exprs[i])
	}
	switch x.Name.Lowered() {
	case "__epoch":
		return schema.TypeFloat
	case "abs", "floor", "ceil", "ceiling":
		if t := arg(0); t == schema.TypeInt || t == schema.TypeFloat {
			return t
		}
	case "now", "current_timestamp", "localtimestamp", "sysdate", "date_trunc", "__cast_timestamp":
		return schema.TypeTimestamp
	case "__cast_int", "length":
		return schema.TypeInt
	case "__cast_float":
		return schema.TypeFloat
	case "__cast_str", "lower", "upper":
		return schema.TypeString
	case "coalesce", "ifnull":
		t := arg(0)
		for i := 1; i < len(x.Exprs); i++ {
			if arg(i) != t {
				return schema.TypeInvalid
			}
		}
		return t
	}
	return schema.TypeInvalid
}
