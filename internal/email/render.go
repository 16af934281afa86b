package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/latchid/latch/internal/model"
)

// How templates run. A template is an administrator's program run with a
// user's values, on the paths of anonymous flows and sometimes inside a
// write transaction, so each message runs under a budget: maxSteps loop
// iterations, maxCalls template bodies (recursion is otherwise bounded only
// by text/template's depth), renderTimeout (or the caller's context, so a
// preview stops when its client goes), and maxRendered bytes a part. The
// builtins that make strings (print, printf, println, html, js, urlquery)
// refuse results longer than a part may be, so a loop cannot grow a
// variable without writing it. The limits are counted by calls inserted
// into the parsed template: text/template stops at a function's error.
//
// A missing value renders empty at any depth: {{.user.data.company}} for a
// user without data is "" (text/template alone fails with "nil pointer
// evaluating interface {}.company"), because a field chain's prefix is
// looked up by pathFunc, which answers an empty object for a missing or
// null member.
const (
	maxRendered   = 1 << 20
	maxSteps      = 100_000
	maxCalls      = 10_000
	renderTimeout = time.Second

	stepFunc = "_step"
	callFunc = "_call"
	pathFunc = "lookup"
)

// renderError is a part that did not render: Field names it as the
// template's member (defaultSubject, localizedTextTemplates.de); Parse says
// it does not parse; Limit says it ran past its budget, which no other
// recipient's values would change.
type renderError struct {
	Field   string
	Message string
	Parse   bool
	Limit   bool
}

func (e *renderError) Error() string { return e.Field + ": " + e.Message }

// fieldError is the error as the API answers it.
func (e *renderError) fieldError() error {
	return model.FieldError(templateField+"."+e.Field, "invalid", e.Message)
}

// budget is one message's allowance, shared by its parts.
type budget struct {
	ctx          context.Context
	steps, calls int
	limit        error // the limit that stopped the template
}

func (b *budget) stop(err error) (string, error) {
	b.limit = err
	return "", err
}

func (b *budget) step() (string, error) {
	if b.steps++; b.steps > maxSteps {
		return b.stop(fmt.Errorf("the template ran more than %d loop iterations", maxSteps))
	}
	if b.steps%256 == 0 {
		return b.checkTime()
	}
	return "", nil
}

func (b *budget) call() (string, error) {
	if b.calls++; b.calls > maxCalls {
		return b.stop(fmt.Errorf("the template called templates more than %d times", maxCalls))
	}
	return b.checkTime()
}

func (b *budget) checkTime() (string, error) {
	switch err := b.ctx.Err(); {
	case errors.Is(err, context.DeadlineExceeded):
		return b.stop(fmt.Errorf("the template did not finish within %v", renderTimeout))
	case err != nil:
		return b.stop(errors.New("the request ended before the template finished"))
	}
	return "", nil
}

// bounded refuses a string longer than a rendered part may be.
func bounded(s string) (string, error) {
	if len(s) > maxRendered {
		return "", fmt.Errorf("a value of more than %d bytes", maxRendered)
	}
	return s, nil
}

func (b *budget) funcs() map[string]any {
	return map[string]any{
		stepFunc: b.step,
		callFunc: b.call,
		pathFunc: lookupPath,
		"print":  func(a ...any) (string, error) { return bounded(fmt.Sprint(a...)) },
		"printf": func(f string, a ...any) (string, error) { return bounded(fmt.Sprintf(f, a...)) },
		"println": func(a ...any) (string, error) {
			return bounded(fmt.Sprintln(a...))
		},
		"html":     func(a ...any) (string, error) { return bounded(template.HTMLEscaper(a...)) },
		"js":       func(a ...any) (string, error) { return bounded(template.JSEscaper(a...)) },
		"urlquery": func(a ...any) (string, error) { return bounded(template.URLQueryEscaper(a...)) },
	}
}

// lookupPath follows path through maps from v, as a field chain would, and
// answers the receiver of the chain's last field, last: a missing or null
// member on the way is an empty object, so that the last field is missing
// too rather than an error. A receiver that cannot have the last field (a
// string's .domain) is the error text/template would give, raised here so
// that it names the field.
func lookupPath(v any, path ...string) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	names, last := path[:len(path)-1], path[len(path)-1]
	for _, name := range names {
		if v == nil {
			return map[string]any{}, nil
		}
		if m, ok := v.(map[string]any); ok {
			v = m[name]
			continue
		}
		rv := reflect.Indirect(reflect.ValueOf(v))
		if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("can't evaluate field %s in type %T", name, v)
		}
		if e := rv.MapIndex(reflect.ValueOf(name).Convert(rv.Type().Key())); e.IsValid() {
			v = e.Interface()
		} else {
			v = nil
		}
	}
	if v == nil {
		return map[string]any{}, nil
	}
	rv := reflect.ValueOf(v)
	if k := reflect.Indirect(rv).Kind(); k != reflect.Map && k != reflect.Struct && !rv.MethodByName(last).IsValid() {
		return nil, fmt.Errorf("can't evaluate field %s in type %T", last, v)
	}
	return v, nil
}

// instrument rewrites a parsed template: a step at the start of every range
// body, a call at the start of every template body, and field chains
// through lookupPath.
func instrument(root *parse.ListNode) {
	root.Nodes = append([]parse.Node{budgetAction(callFunc, root.Position())}, root.Nodes...)
	walkList(root)
}

// budgetAction is {{$_ := fn}}: an assignment, so it prints nothing (and
// html/template does not escape it).
func budgetAction(fn string, pos parse.Pos) *parse.ActionNode {
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos,
		Decl: []*parse.VariableNode{{NodeType: parse.NodeVariable, Pos: pos, Ident: []string{"$_" + fn}}},
		Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{ident(fn, pos)}}}}}
}

func ident(name string, pos parse.Pos) *parse.IdentifierNode {
	return parse.NewIdentifier(name).SetPos(pos)
}

func walkList(l *parse.ListNode) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			walkPipe(n.Pipe)
		case *parse.IfNode:
			walkBranch(&n.BranchNode)
		case *parse.WithNode:
			walkBranch(&n.BranchNode)
		case *parse.RangeNode:
			if n.List == nil {
				n.List = &parse.ListNode{NodeType: parse.NodeList, Pos: n.Pos}
			}
			n.List.Nodes = append([]parse.Node{budgetAction(stepFunc, n.Pos)}, n.List.Nodes...)
			walkBranch(&n.BranchNode)
		case *parse.TemplateNode:
			walkPipe(n.Pipe)
		}
	}
}

func walkBranch(b *parse.BranchNode) {
	walkPipe(b.Pipe)
	walkList(b.List)
	walkList(b.ElseList)
}

func walkPipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		for i, a := range c.Args {
			c.Args[i] = rewriteArg(a)
		}
	}
}

// rewriteArg turns .a.b.c into (lookup . "a" "b" "c").c, $x.a.b into
// (lookup $x "a" "b").b and (p).a.b into (lookup (p) "a" "b").b: the last
// field is looked up as before (missingkey=zero), the ones before it by
// lookupPath.
func rewriteArg(n parse.Node) parse.Node {
	switch n := n.(type) {
	case *parse.PipeNode:
		walkPipe(n)
	case *parse.FieldNode:
		if len(n.Ident) > 1 {
			return chain(&parse.DotNode{NodeType: parse.NodeDot, Pos: n.Pos}, n.Ident, n.Pos)
		}
	case *parse.VariableNode:
		if len(n.Ident) > 2 {
			return chain(&parse.VariableNode{NodeType: parse.NodeVariable, Pos: n.Pos, Ident: n.Ident[:1]}, n.Ident[1:], n.Pos)
		}
	case *parse.ChainNode:
		base := rewriteArg(n.Node)
		if len(n.Field) > 1 {
			return chain(base, n.Field, n.Pos)
		}
		n.Node = base
	}
	return n
}

func chain(base parse.Node, fields []string, pos parse.Pos) *parse.ChainNode {
	args := []parse.Node{ident(pathFunc, pos), base}
	for _, f := range fields {
		args = append(args, &parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(f), Text: f})
	}
	pipe := &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: pos, Args: args}}}
	return &parse.ChainNode{NodeType: parse.NodeChain, Pos: pos, Node: pipe, Field: fields[len(fields)-1:]}
}

// parsePart parses and instruments one part for b.
func (b *budget) parsePart(name, src string, isHTML bool) (func(*bytes.Buffer, any) error, error) {
	if isHTML {
		tp, err := htmltemplate.New(name).Option("missingkey=zero").Funcs(b.funcs()).Parse(src)
		if err != nil {
			return nil, err
		}
		var trees []*parse.Tree
		for _, t := range tp.Templates() {
			trees = append(trees, t.Tree)
		}
		return instrumented(trees, tp), nil
	}
	tp, err := template.New(name).Option("missingkey=zero").Funcs(b.funcs()).Parse(src)
	if err != nil {
		return nil, err
	}
	var trees []*parse.Tree
	for _, t := range tp.Templates() {
		trees = append(trees, t.Tree)
	}
	return instrumented(trees, tp), nil
}

// instrumented counts the steps of every tree of a parsed template and runs
// it with its output bounded.
func instrumented(trees []*parse.Tree, tp interface{ Execute(io.Writer, any) error }) func(*bytes.Buffer, any) error {
	for _, t := range trees {
		if t != nil {
			instrument(t.Root)
		}
	}
	return func(w *bytes.Buffer, data any) error { return tp.Execute(&limitWriter{w: w, n: maxRendered}, data) }
}

// rendered is a message's parts.
type rendered struct{ subject, text, html string }

// localeOf picks the locale of a template's localized parts for a
// recipient's preferred languages, in order: a locale the template has
// (de_DE), else its language (de); "" for the defaults.
func localeOf(t *model.EmailTemplate, langs []string) string {
	has := func(l string) bool {
		for _, m := range []map[string]string{t.LocalizedSubjects, t.LocalizedTextTemplates, t.LocalizedHTMLTemplates, t.LocalizedFromNames} {
			if _, ok := m[l]; ok {
				return true
			}
		}
		return false
	}
	for _, l := range langs {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if has(l) {
			return l
		}
		if i := strings.IndexAny(l, "_-"); i > 0 && has(l[:i]) {
			return l[:i]
		}
	}
	return ""
}

// render fills a template's parts for one locale ("" for the defaults)
// within one budget; a *renderError when a part does not render.
func render(ctx context.Context, t *model.EmailTemplate, locale string, data map[string]any) (rendered, error) {
	ctx, cancel := context.WithTimeout(ctx, renderTimeout)
	defer cancel()
	b := &budget{ctx: ctx}
	var out rendered
	var buf bytes.Buffer
	part := func(localizedField string, localized map[string]string, defField, def string, isHTML bool) (string, error) {
		name, src := defField, def
		if v, ok := localized[locale]; ok && locale != "" {
			name, src = localizedField+"."+locale, v
		}
		if src == "" {
			return "", nil
		}
		exec, err := b.parsePart(name, src, isHTML)
		if err != nil {
			return "", &renderError{Field: name, Parse: true, Message: "The template does not parse: " + err.Error()}
		}
		buf.Reset()
		if err := exec(&buf, data); err != nil {
			if b.limit != nil {
				return "", &renderError{Field: name, Limit: true, Message: "The template was stopped: " + b.limit.Error() + "."}
			}
			if errors.Is(err, errTooLarge) {
				return "", &renderError{Field: name, Limit: true, Message: fmt.Sprintf("The template was stopped: it wrote more than %d bytes.", maxRendered)}
			}
			return "", &renderError{Field: name, Message: "The template does not render: " + err.Error()}
		}
		if isHTML {
			return buf.String(), nil
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	var err error
	if out.subject, err = part("localizedSubjects", t.LocalizedSubjects, "defaultSubject", t.DefaultSubject, false); err != nil {
		return out, err
	}
	out.subject = strings.Join(strings.Fields(out.subject), " ") // one header line
	if out.text, err = part("localizedTextTemplates", t.LocalizedTextTemplates, "defaultTextTemplate", t.DefaultTextTemplate, false); err != nil {
		return out, err
	}
	out.html, err = part("localizedHtmlTemplates", t.LocalizedHTMLTemplates, "defaultHtmlTemplate", t.DefaultHTMLTemplate, true)
	return out, err
}

var errTooLarge = errors.New("rendered template too large")

type limitWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.w.Len()+len(p) > l.n {
		return 0, errTooLarge
	}
	return l.w.Write(p)
}
