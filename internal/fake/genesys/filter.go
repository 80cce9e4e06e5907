package genesys

import (
	"fmt"
	"strings"
)

// queryFilter is the filter of an analytics query.
type queryFilter struct {
	Type       string           `json:"type"`
	Clauses    []queryClause    `json:"clauses"`
	Predicates []queryPredicate `json:"predicates"`
}

// queryClause is a filter clause.
type queryClause struct {
	Type       string           `json:"type"`
	Predicates []queryPredicate `json:"predicates"`
}

// queryPredicate is a filter predicate.
type queryPredicate struct {
	Type      string             `json:"type"`
	Dimension string             `json:"dimension"`
	Operator  string             `json:"operator"`
	Value     string             `json:"value"`
	Range     map[string]float64 `json:"range"`
}

// filterValues are the values a filter selects per dimension, in order.
type filterValues map[string][]string

// check validates a filter and collects the values matched per dimension.
// dims, when not nil, lists the dimensions allowed.
func (f *queryFilter) check(dims map[string]bool) (filterValues, error) {
	vals := filterValues{}
	if err := checkType(f.Type, "filter"); err != nil {
		return nil, err
	}
	if len(f.Clauses) == 0 && len(f.Predicates) == 0 {
		return nil, fmt.Errorf("filter must have at least one clause or predicate")
	}
	for i, c := range f.Clauses {
		if err := checkType(c.Type, fmt.Sprintf("filter.clauses[%d]", i)); err != nil {
			return nil, err
		}
		if len(c.Predicates) == 0 {
			return nil, fmt.Errorf("filter.clauses[%d] must have at least one predicate", i)
		}
		for j, p := range c.Predicates {
			if err := p.check(dims, vals, fmt.Sprintf("filter.clauses[%d].predicates[%d]", i, j)); err != nil {
				return nil, err
			}
		}
	}
	for j, p := range f.Predicates {
		if err := p.check(dims, vals, fmt.Sprintf("filter.predicates[%d]", j)); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

func checkType(t, where string) error {
	if t != "and" && t != "or" {
		return fmt.Errorf("%s.type must be \"and\" or \"or\", not %q", where, t)
	}
	return nil
}

func (p queryPredicate) check(dims map[string]bool, vals filterValues, where string) error {
	switch p.Type {
	case "", "dimension":
	case "property", "metric":
		return nil
	default:
		return fmt.Errorf("%s.type %q is not dimension, property or metric", where, p.Type)
	}
	if p.Dimension == "" {
		return fmt.Errorf("%s.dimension is required", where)
	}
	if dims != nil && !dims[p.Dimension] {
		return fmt.Errorf("%s.dimension %q is not a valid dimension", where, p.Dimension)
	}
	switch p.Operator {
	case "", "matches":
		if strings.TrimSpace(p.Value) == "" && p.Range == nil {
			return fmt.Errorf("%s.value is required", where)
		}
		if p.Value != "" {
			vals[p.Dimension] = append(vals[p.Dimension], p.Value)
		}
	case "exists", "notExists":
	default:
		return fmt.Errorf("%s.operator %q is not matches, exists or notExists", where, p.Operator)
	}
	return nil
}

// unique returns vs without repeats, in order.
func unique(vs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
