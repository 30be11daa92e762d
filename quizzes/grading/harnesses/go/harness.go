// Package skillmapharness is the fixed half of the Go harness; it runs INSIDE the sandbox
// (standard library only). It is compiled once per worker process into a package archive
// (quizzes/grading/languages/go.py), and each submission's build only compiles the
// learner's solution.go with skillmap_main.go, which go_source.py generates from the
// challenge's signature (typed decoding of the arguments, the calls, the sentinel errors
// and record types, handed over as Hooks) and whose main calls Main. The learner's
// package cannot name anything unexported here.
//
// The protocol is quizzes/grading/harness.py's: one JSON object per line on the fd named
// by SKILLMAP_RESULT_FD (driver.py wrote "hello" before the build); the visible tests'
// inputs come from /sandbox/input.json, the hidden tests' from stdin only after
// "await_hidden". Expected values never enter the sandbox.
//
// Each test runs in a goroutine of its own under a timer. A test that outlives its time
// is reported as "timeout" and the program then re-executes itself to run the next test
// (argv[1] = its index): a goroutine cannot be killed, and one left spinning would eat
// the time of every later test. The hidden inputs, once received, are kept in a file for
// that restart.
//
// A panic is reported as an exception: ["panic: <runtime error>", false] (what a visible
// test shows) and ["panic", true]. A returned non-nil error is reported as
// [<sentinel name>, true] when the sentinel itself is found by IDENTITY along its
// Unwrap chain (the sentinel values are captured by the generated file's package-level
// variables, before any init function of the learner's runs; a custom Is method is never
// consulted, and a name chosen by the learner's code never counts); otherwise
// ["error: <message>", false], ["error", true].
//
// Learner code shares this process and can write anything anywhere, including forged
// records: the worker, not this file, is the boundary (first record wins, hidden tests
// reduced to pass or fail).
package skillmapharness

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	skillmapInputPath  = "/sandbox/input.json"
	skillmapHiddenPath = "/tmp/skillmap-build/hidden.json"
	skillmapMaxValue   = 256 * 1024
	skillmapMaxText    = 200
	skillmapMaxDepth   = 100
)

type skillmapField struct {
	Key      string `json:"key"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Optional bool   `json:"optional"` // left out when nil
}

type skillmapConfig struct {
	Kind           string            `json:"kind"`
	PerTestSeconds float64           `json:"per_test_seconds"`
	Tests          []json.RawMessage `json:"tests"`
	HiddenCount    int               `json:"hidden_count"`
	Signature      struct {
		Records map[string][]skillmapField `json:"records"`
	} `json:"signature"`
}

type skillmapTest struct {
	Args     []json.RawMessage `json:"args"`
	InitArgs []json.RawMessage `json:"init_args"`
	Calls    []struct {
		Method string            `json:"method"`
		Args   []json.RawMessage `json:"args"`
	} `json:"calls"`
}

// Result is one call's outcome: status "ok" with value ({"v": …} or {"r": …}), or
// "exception" with exc (the names list), both as JSON text.
type Result struct {
	status string
	value  string
	exc    string
}

// Sentinel is one of the challenge's sentinel errors, as the learner's code declared it.
type Sentinel struct {
	Name string
	Err  error
}

// Args are a call's arguments, each still JSON.
type Args = []json.RawMessage

// Hooks are the generated half of the harness (skillmap_main.go): the typed calls into
// the learner's code, the sentinel errors and the record types.
type Hooks struct {
	Sentinels    []Sentinel
	Records      map[string]any // record name -> a nil pointer to the learner's type
	CallFunction func(args Args) Result
	New          func(args Args) (any, error)
	CallMethod   func(object any, method string, args Args) Result
}

// Raised (as a panic) by the generated code when a test's arguments do not decode into
// the learner's declared types.
type skillmapArgumentError struct{ message string }

var (
	skillmapHooks       Hooks
	skillmapRecordTypes = map[string]reflect.Type{}
	skillmapResultFD    = -1
	skillmapEnv         = os.Environ()
	skillmapRecords     map[string][]skillmapField
	skillmapSelf, _     = os.Executable()
)

// ----------------------------------------------------------------------------- records

func skillmapWrite(text string) {
	data := []byte(text + "\n")
	for len(data) > 0 {
		n, err := syscall.Write(skillmapResultFD, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		data = data[n:]
	}
}

func skillmapQuote(text string) string {
	data, _ := json.Marshal(strings.ToValidUTF8(text, "\uFFFD"))
	return string(data)
}

func skillmapCut(text string, limit int) string {
	if len(text) <= limit {
		return text
	}
	return strings.ToValidUTF8(text[:limit], "") + "…"
}

func skillmapNames(pairs ...any) string {
	parts := make([]string, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, "["+skillmapQuote(pairs[i].(string))+","+strconv.FormatBool(pairs[i+1].(bool))+"]")
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func skillmapTestRecord(index int, body string) {
	skillmapWrite(`{"t":"test","i":` + strconv.Itoa(index) + `,` + body + `}`)
}

func skillmapCallBody(result Result) string {
	if result.status == "ok" {
		return `"status":"ok","value":` + result.value
	}
	return `"status":"exception","exc":` + result.exc
}

// What a hidden test reports: a JSON value or the names, nothing a repr could carry.
func skillmapHiddenCallBody(result Result) string {
	if result.status == "ok" && strings.HasPrefix(result.value, `{"v":`) {
		return skillmapCallBody(result)
	}
	if result.status == "exception" {
		return skillmapCallBody(result)
	}
	return `"status":"failed"`
}

// ----------------------------------------------------------------------------- outcomes

func skillmapOK(value string) Result { return Result{status: "ok", value: value} }

func skillmapException(exc string) Result {
	return Result{status: "exception", exc: exc}
}

func skillmapPanicResult(recovered any) Result {
	if recovered == nil {
		return skillmapException(skillmapNames("runtime.Goexit", true))
	}
	if argument, ok := recovered.(skillmapArgumentError); ok {
		return skillmapException(skillmapNames(argument.message, false, "ArgumentError", true))
	}
	kind := reflect.TypeOf(recovered)
	if err, ok := recovered.(error); ok && kind.PkgPath() == "runtime" {
		// The runtime's own errors (index out of range, nil map, divide by zero): their
		// messages come from the runtime, not from a method of the learner's.
		return skillmapException(skillmapNames("panic: "+skillmapCut(err.Error(), skillmapMaxText), false, "panic", true))
	}
	return skillmapException(skillmapNames("panic("+skillmapCut(kind.String(), skillmapMaxText)+")", false, "panic", true))
}

// Failure reports a returned error (runs under the test's timer: Error and
// Unwrap are the learner's methods).
func Failure(err error) Result {
	current := err
	for depth := 0; current != nil && depth < skillmapMaxDepth; depth++ {
		for _, sentinel := range skillmapHooks.Sentinels {
			if skillmapSame(current, sentinel.Err) {
				return skillmapException(skillmapNames(sentinel.Name, true))
			}
		}
		wrapper, ok := current.(interface{ Unwrap() error })
		if !ok {
			break
		}
		current = wrapper.Unwrap()
	}
	return skillmapException(skillmapNames("error: "+skillmapCut(err.Error(), skillmapMaxText), false, "error", true))
}

func skillmapSame(err, sentinel error) bool {
	if sentinel == nil || reflect.TypeOf(err) != reflect.TypeOf(sentinel) || !reflect.TypeOf(err).Comparable() {
		return false
	}
	return err == sentinel
}

// Decode decodes argument index into target (a pointer to the declared type). Numbers
// inside "any" values arrive as json.Number, exact: 10 and 10.0 stay apart.
func Decode(args []json.RawMessage, index int, target any) {
	if index >= len(args) {
		panic(skillmapArgumentError{"argument " + strconv.Itoa(index+1) + " is missing"})
	}
	decoder := json.NewDecoder(bytes.NewReader(args[index]))
	decoder.UseNumber()
	if err := decoder.Decode(target); err != nil {
		panic(skillmapArgumentError{"argument " + strconv.Itoa(index+1) + " does not fit your type: " + skillmapCut(err.Error(), skillmapMaxText)})
	}
}

// UnknownMethod is the result of a call to a method the signature does not have.
func UnknownMethod(method string) Result {
	return skillmapException(skillmapNames("no method "+method, false, "ArgumentError", true))
}

// ----------------------------------------------------------------------------- values

type skillmapType struct {
	kind     string // int float string bool any list map record void
	nullable bool
	item     *skillmapType
	record   string
}

func skillmapParseType(text string) *skillmapType {
	t := &skillmapType{}
	if strings.HasSuffix(text, "?") {
		t.nullable = true
		text = text[:len(text)-1]
	}
	switch {
	case strings.HasPrefix(text, "list<") && strings.HasSuffix(text, ">"):
		t.kind, t.item = "list", skillmapParseType(text[5:len(text)-1])
	case strings.HasPrefix(text, "map<") && strings.HasSuffix(text, ">"):
		t.kind, t.item = "map", skillmapParseType(text[4:len(text)-1])
	case text == "int" || text == "float" || text == "string" || text == "bool" || text == "any" || text == "void":
		t.kind = text
	default:
		t.kind, t.record = "record", text
	}
	return t
}

type skillmapNotJSON struct{ why string }

type skillmapEncoder struct {
	out strings.Builder
}

func (e *skillmapEncoder) fail(why string) { panic(skillmapNotJSON{why}) }

func (e *skillmapEncoder) write(text string) {
	e.out.WriteString(text)
	if e.out.Len() > skillmapMaxValue {
		panic(skillmapNotJSON{"too large"})
	}
}

func skillmapFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

var skillmapNumberType = reflect.TypeOf(json.Number(""))

func (e *skillmapEncoder) encode(v reflect.Value, t *skillmapType, depth int) {
	if depth > skillmapMaxDepth {
		e.fail("nested too deep")
	}
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			e.write("null")
			return
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		e.write("null")
		return
	}
	switch t.kind {
	case "void":
		e.write("null")
	case "any":
		e.dynamic(v, depth)
	case "int":
		switch v.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			e.write(strconv.FormatInt(v.Int(), 10))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			e.write(strconv.FormatUint(v.Uint(), 10))
		default:
			e.fail(v.Type().String())
		}
	case "float":
		switch v.Kind() {
		case reflect.Float32, reflect.Float64:
			e.write(skillmapFloat(v.Float()))
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			e.write(strconv.FormatInt(v.Int(), 10))
		default:
			e.fail(v.Type().String())
		}
	case "string":
		if v.Kind() != reflect.String {
			e.fail(v.Type().String())
		}
		e.write(skillmapQuote(v.String()))
	case "bool":
		if v.Kind() != reflect.Bool {
			e.fail(v.Type().String())
		}
		e.write(strconv.FormatBool(v.Bool()))
	case "list":
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			e.fail(v.Type().String())
		}
		if v.Kind() == reflect.Slice && v.IsNil() && t.nullable {
			e.write("null")
			return
		}
		e.write("[")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				e.write(",")
			}
			e.encode(v.Index(i), t.item, depth+1)
		}
		e.write("]")
	case "map":
		if v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String {
			e.fail(v.Type().String())
		}
		if v.IsNil() && t.nullable {
			e.write("null")
			return
		}
		e.object(v, func(item reflect.Value) { e.encode(item, t.item, depth+1) })
	case "record":
		fields, known := skillmapRecords[t.record]
		if v.Kind() != reflect.Struct || !known {
			e.fail(v.Type().String())
		}
		e.write("{")
		written := 0
		for _, field := range fields {
			index, problem := skillmapFieldIndex(v.Type(), field)
			if problem != "" {
				e.fail(problem)
			}
			value := v.Field(index)
			if field.Optional && skillmapIsNil(value) {
				continue
			}
			if written > 0 {
				e.write(",")
			}
			written++
			e.write(skillmapQuote(field.Key) + ":")
			e.encode(value, skillmapParseType(field.Type), depth+1)
		}
		e.write("}")
	default:
		e.fail(t.kind)
	}
}

func skillmapIsNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
		return v.IsNil()
	}
	return false
}

func (e *skillmapEncoder) object(v reflect.Value, item func(reflect.Value)) {
	keys := v.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	e.write("{")
	for i, key := range keys {
		if i > 0 {
			e.write(",")
		}
		e.write(skillmapQuote(key.String()) + ":")
		item(v.MapIndex(key))
	}
	e.write("}")
}

// An "any" value: whatever JSON-like value it holds.
func (e *skillmapEncoder) dynamic(v reflect.Value, depth int) {
	if v.Type() == skillmapNumberType {
		text := v.String()
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			e.fail("json.Number " + skillmapQuote(skillmapCut(text, 40)))
		}
		e.write(text)
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		e.write(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.write(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		e.write(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		e.write(skillmapFloat(v.Float()))
	case reflect.String:
		e.write(skillmapQuote(v.String()))
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			e.write("null")
			return
		}
		e.write("[")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				e.write(",")
			}
			e.encode(v.Index(i), &skillmapType{kind: "any"}, depth+1)
		}
		e.write("]")
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			e.fail(v.Type().String())
		}
		if v.IsNil() {
			e.write("null")
			return
		}
		e.object(v, func(item reflect.Value) { e.encode(item, &skillmapType{kind: "any"}, depth+1) })
	case reflect.Struct:
		e.structFields(v, depth)
	default:
		e.fail(v.Type().String())
	}
}

// structFields encodes a struct held by an "any" value as encoding/json would: its
// exported fields under their json tag names, "-" left out, omitempty honoured.
func (e *skillmapEncoder) structFields(v reflect.Value, depth int) {
	e.write("{")
	written := 0
	for i := 0; i < v.NumField(); i++ {
		field := v.Type().Field(i)
		name, options, _ := strings.Cut(field.Tag.Get("json"), ",")
		if !field.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = field.Name
		}
		if strings.Contains(","+options+",", ",omitempty,") && v.Field(i).IsZero() {
			continue
		}
		if written > 0 {
			e.write(",")
		}
		written++
		e.write(skillmapQuote(name) + ":")
		e.encode(v.Field(i), &skillmapType{kind: "any"}, depth+1)
	}
	e.write("}")
}

// skillmapFieldIndex finds a record field in the learner's struct: by its json tag, or
// by a name encoding/json would match to the key when the field has no tag.
func skillmapFieldIndex(structType reflect.Type, field skillmapField) (int, string) {
	for i := 0; i < structType.NumField(); i++ {
		candidate := structType.Field(i)
		tag := strings.Split(candidate.Tag.Get("json"), ",")[0]
		if !candidate.IsExported() {
			continue
		}
		if tag == field.Key || (tag == "" && strings.EqualFold(candidate.Name, field.Key)) {
			return i, ""
		}
	}
	return -1, structType.Name() + " has no exported field " + field.Name + " tagged `json:\"" + field.Key + "\"`"
}

// Value encodes a returned value as {"v": json} or, when it is not a JSON value
// of the declared type, {"r": what it is}. Runs under the test's timer.
func Value(value any, typeText string) (result Result) {
	encoder := &skillmapEncoder{}
	defer func() {
		if recovered := recover(); recovered != nil {
			problem, ok := recovered.(skillmapNotJSON)
			if !ok {
				panic(recovered)
			}
			text := "<a value of type " + skillmapCut(problem.why, skillmapMaxText) + " where " + typeText + " was expected>"
			if problem.why == "too large" {
				text = "<a value too large to compare>"
			}
			result = skillmapOK(`{"r":` + skillmapQuote(text) + `}`)
		}
	}()
	encoder.encode(reflect.ValueOf(value), skillmapParseType(typeText), 0)
	return skillmapOK(`{"v":` + encoder.out.String() + `}`)
}

// ----------------------------------------------------------------------------- running

// skillmapProtected runs one call, a panic becoming its exception.
func skillmapProtected(call func() Result) (result Result) {
	finished := false
	defer func() {
		if !finished {
			result = skillmapPanicResult(recover())
		}
	}()
	result = call()
	finished = true
	return result
}

type skillmapEvent struct {
	kind   string // "call", "init" (the constructor failed), "end"
	result Result
}

// skillmapRun runs one test in a goroutine; false when its time ran out.
func skillmapRun(seconds float64, test skillmapTest, kind string, hidden bool) (string, bool) {
	events := make(chan skillmapEvent, len(test.Calls)+2)
	go func() {
		ended := false
		defer func() {
			if !ended { // runtime.Goexit, or a panic outside the protected calls
				events <- skillmapEvent{"init", skillmapPanicResult(recover())}
			}
		}()
		if kind == "function" {
			events <- skillmapEvent{"call", skillmapProtected(func() Result { return skillmapHooks.CallFunction(test.Args) })}
		} else {
			var object any
			failure := skillmapProtected(func() Result {
				created, err := skillmapHooks.New(test.InitArgs)
				if err != nil {
					return Failure(err)
				}
				object = created
				return skillmapOK("null")
			})
			if failure.status != "ok" {
				events <- skillmapEvent{"init", failure}
				ended = true
				return
			}
			for _, call := range test.Calls {
				call := call
				events <- skillmapEvent{"call", skillmapProtected(func() Result {
					return skillmapHooks.CallMethod(object, call.Method, call.Args)
				})}
			}
		}
		events <- skillmapEvent{kind: "end"}
		ended = true
	}()
	timer := time.NewTimer(time.Duration(seconds * float64(time.Second)))
	defer timer.Stop()
	var calls []Result
	for {
		select {
		case event := <-events:
			switch event.kind {
			case "call":
				calls = append(calls, event.result)
				continue
			case "init":
				if kind == "function" {
					return skillmapCallBody(event.result), true
				}
				if len(calls) > 0 { // Goexit inside a method
					return `"status":"exception","exc":` + event.result.exc, true
				}
				return `"status":"init_exception","exc":` + event.result.exc, true
			}
			if kind == "function" {
				return skillmapCallBody(calls[0]), true
			}
			return `"status":"ok","calls":` + skillmapCallList(calls, hidden), true
		case <-timer.C:
			if kind == "function" {
				return `"status":"timeout"`, false
			}
			return `"status":"timeout","calls":` + skillmapCallList(calls, false), false
		}
	}
}

func skillmapCallList(calls []Result, hidden bool) string {
	parts := make([]string, len(calls))
	for i, call := range calls {
		if hidden {
			parts[i] = "{" + skillmapHiddenCallBody(call) + "}"
		} else {
			parts[i] = "{" + skillmapCallBody(call) + "}"
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// skillmapHiddenBody cuts a test record down to what grading a hidden test needs.
func skillmapHiddenBody(body string, kind string) string {
	if kind == "function" {
		if strings.HasPrefix(body, `"status":"ok","value":{"v":`) || strings.HasPrefix(body, `"status":"exception"`) {
			return body
		}
		return `"status":"failed"`
	}
	if strings.HasPrefix(body, `"status":"ok"`) {
		return body // each call was cut down as the list was written
	}
	return `"status":"failed"`
}

func skillmapRunTests(config *skillmapConfig, tests []json.RawMessage, first int, start int, hidden bool, restart func(next int)) {
	for offset := start - first; offset < len(tests); offset++ {
		index := first + offset
		var test skillmapTest
		if err := json.Unmarshal(tests[offset], &test); err != nil {
			skillmapTestRecord(index, `"status":"harness_error"`)
			continue
		}
		body, inTime := skillmapRun(config.PerTestSeconds, test, config.Kind, hidden)
		if hidden {
			body = skillmapHiddenBody(body, config.Kind)
		}
		skillmapTestRecord(index, body)
		if !inTime {
			restart(index + 1)
		}
	}
}

func skillmapReadHidden() []json.RawMessage {
	skillmapWrite(`{"t":"await_hidden"}`)
	var data []byte
	buffer := make([]byte, 1<<16)
	for {
		n, err := syscall.Read(0, buffer)
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			break
		}
		data = append(data, buffer[:n]...)
	}
	var hidden []json.RawMessage
	if json.Unmarshal(data, &hidden) != nil {
		return nil
	}
	return hidden
}

// skillmapCheckRecords: every record field of the signature is found in the learner's
// struct (by its json tag), before any test runs.
func skillmapCheckRecords() string {
	names := make([]string, 0, len(skillmapRecordTypes))
	for name := range skillmapRecordTypes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		structType := skillmapRecordTypes[name]
		if structType.Kind() != reflect.Struct {
			return name + " must be a struct"
		}
		for _, field := range skillmapRecords[name] {
			if _, problem := skillmapFieldIndex(structType, field); problem != "" {
				return problem
			}
		}
	}
	return ""
}

// Main runs the tests (the program's main calls it, and nothing else).
func Main(hooks Hooks) {
	skillmapHooks = hooks
	for name, pointer := range hooks.Records {
		skillmapRecordTypes[name] = reflect.TypeOf(pointer).Elem()
	}
	fd, err := strconv.Atoi(os.Getenv("SKILLMAP_RESULT_FD"))
	if err != nil {
		os.Exit(3)
	}
	skillmapResultFD = fd
	start := -1
	if len(os.Args) == 2 {
		start, _ = strconv.Atoi(os.Args[1])
	}
	data, err := os.ReadFile(skillmapInputPath)
	var config skillmapConfig
	if err == nil {
		err = json.Unmarshal(data, &config)
	}
	if err != nil {
		skillmapWrite(`{"t":"setup_error","msg":"the harness could not read its input"}`)
		os.Exit(3)
	}
	skillmapRecords = config.Signature.Records
	visible := config.Tests
	var hidden []json.RawMessage
	if start < 0 {
		if problem := skillmapCheckRecords(); problem != "" {
			skillmapWrite(`{"t":"load_error","category":"record","msg":` + skillmapQuote(problem) + `}`)
			skillmapWrite(`{"t":"done"}`)
			os.Exit(0)
		}
		skillmapWrite(`{"t":"loaded"}`)
		start = 0
	} else if start > len(visible) { // restarted within the hidden tests
		if data, err := os.ReadFile(skillmapHiddenPath); err == nil {
			_ = json.Unmarshal(data, &hidden)
		}
	}
	restart := func(next int) {
		if hidden != nil {
			if data, err := json.Marshal(hidden); err == nil {
				_ = os.WriteFile(skillmapHiddenPath, data, 0o600)
			}
		}
		_ = syscall.Exec(skillmapSelf, []string{skillmapSelf, strconv.Itoa(next)}, skillmapEnv)
		os.Exit(3) // the restart failed: the remaining tests are not run
	}
	if start < len(visible) {
		skillmapRunTests(&config, visible, 0, start, false, restart)
		start = len(visible)
	}
	if config.HiddenCount > 0 {
		if hidden == nil {
			hidden = skillmapReadHidden()
		}
		skillmapRunTests(&config, hidden, len(visible), start, true, restart)
	}
	skillmapWrite(`{"t":"done"}`)
	os.Exit(0)
}
