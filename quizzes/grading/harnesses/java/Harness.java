/*
 * The Java harness: runs INSIDE the sandbox (JDK only; never loaded by the worker).
 *
 *   java [flags from quizzes/grading/languages/java.py] -cp /sandbox/harness Harness
 *
 * Inputs: /sandbox/input.json (the challenge's shape and the inputs of the VISIBLE tests
 * only) and the learner's file /sandbox/<Class>.java (Solution.java for a function
 * challenge, the class's own name for a class challenge). Expected values never enter
 * the sandbox.
 *
 * The learner's file is compiled in THIS JVM with the JDK's compiler (javax.tools), in
 * memory, and its classes are defined by a class loader of their own whose parent is the
 * platform loader: the learner's code cannot name the harness's classes. Compiling
 * in-process saves a second JVM start (see docs/architecture.md, "Java").
 *
 * Protocol: exactly the records of quizzes/grading/harness.py, one JSON object per line
 * on the private result channel. Java has no API to adopt a file descriptor by number,
 * so the channel is opened as /proc/self/fd/N (N from SKILLMAP_RESULT_FD) before any
 * learner class exists, and kept in a private field. Hidden test inputs are read from
 * stdin only after the record of every visible test has been written.
 *
 * The learner's code shares this JVM: with reflection it can reach anything here,
 * and it can open /proc/self/fd/N itself. As in the Python harness, the worker, not this
 * file, is the boundary: it keeps the first record per test, sends hidden inputs only
 * once every visible result is in, and reduces a hidden test's record to pass/fail.
 *
 * Exceptions are reported as [name, trusted] pairs along the superclass chain; trusted
 * means the class was defined by the boot or platform class loader (a JDK class,
 * recognised by identity: no loader the learner can use defines classes there), and
 * then its simple name is reported; any other class is reported by its binary name and
 * untrusted.
 */

import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;

public final class Harness {
    /** The work dir; only the worker's own archive-building run points it elsewhere. */
    static final String DIR = System.getProperty("skillmap.dir", "/sandbox");
    static final int MAX_VALUE_CHARS = 256 * 1024;
    static final int MAX_REPR_CHARS = 2000;
    static final int MAX_DEPTH = 100;
    static final long TEST_STACK_BYTES = 16L << 20;
    static final int MAX_COMPILE_ERRORS = 10;

    private static OutputStream channel;
    private static PrintStream realOut;
    private static PrintStream realErr;
    private static ClassLoader learnerLoader;
    private static double compileSeconds = 10;
    /** record name -> (component name -> JSON key), from the signature in the config. */
    private static final Map<String, Map<String, String>> RECORD_KEYS = new HashMap<>();
    // Per record, the components of its optional fields: left out of a result when null.
    private static final Map<String, Set<String>> OPTIONAL_FIELDS = new HashMap<>();

    private Harness() {}

    public static void main(String[] args) throws Exception {
        realOut = System.out;
        realErr = System.err;
        channel = new FileOutputStream("/proc/self/fd/" + System.getenv("SKILLMAP_RESULT_FD"));
        emit(Json.obj("t", "hello"));

        Map<String, Object> config = Json.asMap(
                Json.parse(new String(Files.readAllBytes(Path.of(DIR, "input.json")), StandardCharsets.UTF_8)));
        Object limit = config.get("compile_seconds");
        if (limit instanceof Number) {
            compileSeconds = ((Number) limit).doubleValue();
        }
        readRecordKeys(config);
        try {
            run(config);
        } catch (Throwable exc) {
            realErr.println("harness error:");
            exc.printStackTrace(realErr);
        } finally {
            emit(Json.obj("t", "done"));
            realOut.flush();
            realErr.flush();
            // No shutdown hooks, no finalizers, no lingering learner threads.
            Runtime.getRuntime().halt(0);
        }
    }

    static void readRecordKeys(Map<String, Object> config) {
        Object records = Json.asMap(config.get("signature")).get("records");
        for (Map.Entry<String, Object> record : Json.asMap(records).entrySet()) {
            Map<String, String> keys = new HashMap<>();
            Set<String> optional = new HashSet<>();
            for (Object field : Json.asList(record.getValue())) {
                Map<String, Object> f = Json.asMap(field);
                if (f.get("name") instanceof String && f.get("key") instanceof String) {
                    keys.put((String) f.get("name"), (String) f.get("key"));
                    if (Boolean.TRUE.equals(f.get("optional"))) {
                        optional.add((String) f.get("name"));
                    }
                }
            }
            RECORD_KEYS.put(record.getKey(), keys);
            OPTIONAL_FIELDS.put(record.getKey(), optional);
        }
    }

    /** The JSON key of a record component: the signature's, else its snake_case name. */
    static String recordKey(Class<?> record, String component) {
        Map<String, String> keys = RECORD_KEYS.get(record.getSimpleName());
        String key = keys == null ? null : keys.get(component);
        return key != null ? key : snake(component);
    }

    /** Whether a record component is an optional field of the signature (left out when null). */
    static boolean isOptional(Class<?> record, String component) {
        Set<String> optional = OPTIONAL_FIELDS.get(record.getSimpleName());
        return optional != null && optional.contains(component);
    }

    // ------------------------------------------------------------------ the channel

    static void emit(Map<String, Object> record) {
        String line;
        try {
            line = Json.write(record) + "\n";
        } catch (RuntimeException | StackOverflowError exc) {
            line = Json.write(Json.obj("t", "test", "i", record.get("i"), "status", "harness_error")) + "\n";
        }
        byte[] data = line.getBytes(StandardCharsets.UTF_8);
        synchronized (Harness.class) {
            try {
                channel.write(data);
                channel.flush();
            } catch (IOException exc) {
                Runtime.getRuntime().halt(3);
            }
        }
    }

    // ------------------------------------------------------------------ compiling

    static final class Source extends SimpleJavaFileObject {
        final String text;

        Source(String className, String text) {
            super(URI.create("string:///" + className + ".java"), Kind.SOURCE);
            this.text = text;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return text;
        }
    }

    static final class Output extends SimpleJavaFileObject {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Output(String className) {
            super(URI.create("mem:///" + className.replace('.', '/') + ".class"), Kind.CLASS);
        }

        @Override
        public OutputStream openOutputStream() {
            return bytes;
        }
    }

    static final class Memory extends ForwardingJavaFileManager<StandardJavaFileManager> {
        final Map<String, Output> classes = new LinkedHashMap<>();

        Memory(StandardJavaFileManager inner) {
            super(inner);
        }

        @Override
        public JavaFileObject getJavaFileForOutput(
                JavaFileManager.Location location, String className, JavaFileObject.Kind kind, FileObject sibling) {
            Output out = new Output(className);
            classes.put(className, out);
            return out;
        }
    }

    static final class LearnerLoader extends ClassLoader {
        final Map<String, byte[]> classes;

        LearnerLoader(Map<String, byte[]> classes) {
            super("learner", ClassLoader.getPlatformClassLoader());
            this.classes = classes;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] bytes = classes.get(name);
            if (bytes == null) {
                throw new ClassNotFoundException(name);
            }
            return defineClass(name, bytes, 0, bytes.length);
        }
    }

    /** Compiles the learner's file; null (after a compile_error record) if it does not. */
    static Map<String, byte[]> compile(String className, String text) throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StandardJavaFileManager standard = javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8);
        standard.setLocation(StandardLocation.CLASS_PATH, List.of());
        Memory memory = new Memory(standard);
        List<String> options = List.of("-proc:none", "-g", "-nowarn", "-Xlint:none", "-implicit:none", "-Xmaxerrs", "20");
        JavaCompiler.CompilationTask task =
                javac.getTask(new java.io.StringWriter(), memory, diagnostics, options, null, List.of(new Source(className, text)));
        Boolean[] ok = new Boolean[1];
        Throwable[] crash = new Throwable[1];
        Thread compiler = new Thread(null, () -> {
            try {
                ok[0] = task.call();
            } catch (Throwable exc) {
                crash[0] = exc;
            }
        }, "javac", 32L << 20);
        compiler.setDaemon(true);
        compiler.start();
        compiler.join((long) (compileSeconds * 1000));
        if (compiler.isAlive()) {
            emit(Json.obj("t", "compile_error", "type", "CompileTimeout", "line", null,
                    "msg", "compiling took longer than " + fmt(compileSeconds) + " s"));
            return null;
        }
        if (crash[0] != null) {
            String what = crash[0] instanceof OutOfMemoryError ? "ran out of memory"
                    : crash[0] instanceof StackOverflowError ? "ran out of stack" : "failed";
            emit(Json.obj("t", "compile_error", "type", "CompileFailure", "line", null,
                    "msg", "the compiler " + what + " on this code"));
            return null;
        }
        if (!Boolean.TRUE.equals(ok[0])) {
            List<Object> errors = new ArrayList<>();
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                if (d.getKind() != Diagnostic.Kind.ERROR || errors.size() >= MAX_COMPILE_ERRORS) {
                    continue;
                }
                long line = d.getLineNumber();
                long column = d.getColumnNumber();
                errors.add(Json.obj("line", line > 0 ? line : null, "col", column > 0 ? column : null,
                        "msg", cut(d.getMessage(Locale.ROOT), 500)));
            }
            Map<String, Object> first = errors.isEmpty()
                    ? Json.obj("line", null, "msg", "the code does not compile")
                    : Json.asMap(errors.get(0));
            emit(Json.obj("t", "compile_error", "type", "CompileError", "line", first.get("line"),
                    "msg", first.get("msg"), "errors", errors));
            return null;
        }
        Map<String, byte[]> classes = new HashMap<>();
        for (Map.Entry<String, Output> entry : memory.classes.entrySet()) {
            classes.put(entry.getKey(), entry.getValue().bytes.toByteArray());
        }
        return classes;
    }

    // ------------------------------------------------------------------ running

    static void run(Map<String, Object> config) throws Exception {
        String kind = (String) config.get("kind");
        String className = config.get("class") instanceof String ? (String) config.get("class") : "Solution";
        double perTest = ((Number) config.get("per_test_seconds")).doubleValue();
        String text = new String(Files.readAllBytes(Path.of(DIR, className + ".java")), StandardCharsets.UTF_8);
        Map<String, byte[]> classes = compile(className, text);
        if (classes == null) {
            return;
        }
        learnerLoader = new LearnerLoader(classes);
        Class<?>[] target = new Class<?>[1];
        Outcome loading = guarded(perTest, () -> {
            target[0] = Class.forName(className, true, learnerLoader);
            return null;
        });
        if (!loading.status.equals("ok")) {
            Map<String, Object> record = Json.obj("t", "load_error", "category", loading.status);
            if (loading.status.equals("exception")) {
                record.put("exc", loading.exc);
                record.put("line", loading.line);
            }
            emit(record);
            return;
        }
        Class<?> cls = target[0];
        Runner runner;
        if ("class".equals(kind)) {
            runner = new ClassRunner(cls, perTest);
        } else {
            String entry = (String) config.get("entry");
            Method method = findMethod(cls, entry, arity(config));
            if (method == null) {
                emit(Json.obj("t", "load_error", "category", "missing"));
                return;
            }
            runner = new FunctionRunner(cls, method, perTest);
        }
        emit(Json.obj("t", "loaded"));
        List<Object> visible = Json.asList(config.get("tests"));
        for (int i = 0; i < visible.size(); i++) {
            Map<String, Object> record = runner.run(Json.asMap(visible.get(i)));
            record.put("t", "test");
            record.put("i", i);
            emit(record);
        }
        Object hiddenCount = config.get("hidden_count");
        if (hiddenCount instanceof Number && ((Number) hiddenCount).intValue() > 0) {
            emit(Json.obj("t", "await_hidden"));
            List<Object> hidden = readHidden();
            for (int j = 0; j < hidden.size(); j++) {
                Map<String, Object> record = hiddenRecord(runner.run(Json.asMap(hidden.get(j))));
                record.put("t", "test");
                record.put("i", visible.size() + j);
                emit(record);
            }
        }
    }

    static int arity(Map<String, Object> config) {
        Object signature = config.get("signature");
        if (signature instanceof Map) {
            Object params = ((Map<?, ?>) signature).get("params");
            if (params instanceof List) {
                return ((List<?>) params).size();
            }
        }
        List<Object> tests = Json.asList(config.get("tests"));
        if (!tests.isEmpty()) {
            return Json.asList(Json.asMap(tests.get(0)).get("args")).size();
        }
        return -1;
    }

    static List<Object> readHidden() throws IOException {
        InputStream in = new java.io.FileInputStream(java.io.FileDescriptor.in);
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        byte[] chunk = new byte[65536];
        for (int n; (n = in.read(chunk)) > 0; ) {
            buffer.write(chunk, 0, n);
        }
        byte[] data = buffer.toByteArray();
        try {
            Object parsed = Json.parse(new String(data, StandardCharsets.UTF_8));
            return parsed instanceof List ? Json.asList(parsed) : List.of();
        } catch (RuntimeException exc) {
            return List.of();
        }
    }

    static Method findMethod(Class<?> cls, String name, int arity) {
        Method found = null;
        for (Class<?> c = cls; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Method m : c.getDeclaredMethods()) {
                if (m.getName().equals(name) && !m.isSynthetic() && !m.isBridge()
                        && (arity < 0 || m.getParameterCount() == arity)) {
                    if (found == null) {
                        found = m;
                    }
                }
            }
            if (found != null) {
                break;
            }
        }
        if (found != null) {
            found.setAccessible(true);
        }
        return found;
    }

    interface Runner {
        Map<String, Object> run(Map<String, Object> test);
    }

    static final class FunctionRunner implements Runner {
        final Class<?> cls;
        final Method method;
        final double perTest;

        FunctionRunner(Class<?> cls, Method method, double perTest) {
            this.cls = cls;
            this.method = method;
            this.perTest = perTest;
        }

        @Override
        public Map<String, Object> run(Map<String, Object> test) {
            List<Object> args = Json.asList(test.get("args"));
            Object[] converted;
            try {
                converted = Convert.arguments(method.getGenericParameterTypes(), args);
            } catch (Mismatch exc) {
                return Json.obj("status", "exception", "exc", mismatch(exc));
            }
            Outcome outcome = guarded(perTest, () -> {
                Object receiver = null;
                if (!Modifier.isStatic(method.getModifiers())) {
                    Constructor<?> constructor = cls.getDeclaredConstructor();
                    constructor.setAccessible(true);
                    receiver = constructor.newInstance();
                }
                return Encode.value(method.invoke(receiver, converted));
            });
            if (outcome.status.equals("ok")) {
                return Json.obj("status", "ok", "value", outcome.value);
            }
            if (outcome.status.equals("exception")) {
                return Json.obj("status", "exception", "exc", outcome.exc);
            }
            return Json.obj("status", outcome.status);
        }
    }

    static final class ClassRunner implements Runner {
        final Class<?> cls;
        final double perTest;

        ClassRunner(Class<?> cls, double perTest) {
            this.cls = cls;
            this.perTest = perTest;
        }

        @Override
        public Map<String, Object> run(Map<String, Object> test) {
            List<Object> calls = Json.asList(test.get("calls"));
            List<Object> out = new ArrayList<>();
            List<Object> initError = new ArrayList<>();
            Outcome outcome = guarded(perTest, () -> {
                List<Object> initArgs = Json.asList(test.get("init_args"));
                Constructor<?> constructor = findConstructor(initArgs.size());
                if (constructor == null) {
                    initError.add(List.of(List.of("no constructor of " + cls.getSimpleName() + " takes "
                            + initArgs.size() + " argument(s)", false)));
                    return null;
                }
                Object instance;
                try {
                    instance = constructor.newInstance(Convert.arguments(constructor.getGenericParameterTypes(), initArgs));
                } catch (Mismatch exc) {
                    initError.add(mismatch(exc));
                    return null;
                } catch (InvocationTargetException exc) {
                    Throwable cause = exc.getCause();
                    if (cause instanceof OutOfMemoryError || cause instanceof ThreadDeath) {
                        throw exc;
                    }
                    initError.add(exceptionNames(cause));
                    return null;
                }
                for (Object item : calls) {
                    Map<String, Object> call = Json.asMap(item);
                    List<Object> args = Json.asList(call.get("args"));
                    Method method = findMethod(cls, (String) call.get("method"), args.size());
                    if (method == null) {
                        out.add(Json.obj("status", "exception", "exc", List.of(List.of(
                                "no method " + call.get("method") + " with " + args.size() + " parameter(s)", false))));
                        continue;
                    }
                    try {
                        Object value = method.invoke(instance, Convert.arguments(method.getGenericParameterTypes(), args));
                        out.add(Json.obj("status", "ok", "value", Encode.value(value)));
                    } catch (Mismatch exc) {
                        out.add(Json.obj("status", "exception", "exc", mismatch(exc)));
                    } catch (InvocationTargetException exc) {
                        Throwable cause = exc.getCause();
                        if (cause instanceof OutOfMemoryError || cause instanceof ThreadDeath) {
                            throw exc;
                        }
                        out.add(Json.obj("status", "exception", "exc", exceptionNames(cause)));
                    }
                }
                return null;
            });
            if (outcome.status.equals("exception")) {
                return Json.obj("status", "exception", "exc", outcome.exc);
            }
            if (!outcome.status.equals("ok")) {
                return Json.obj("status", outcome.status, "calls", out);
            }
            if (!initError.isEmpty()) {
                return Json.obj("status", "init_exception", "exc", initError.get(0));
            }
            return Json.obj("status", "ok", "calls", out);
        }

        Constructor<?> findConstructor(int arity) {
            for (Constructor<?> c : cls.getDeclaredConstructors()) {
                if (c.getParameterCount() == arity && !c.isSynthetic()) {
                    c.setAccessible(true);
                    return c;
                }
            }
            return null;
        }
    }

    static List<Object> mismatch(Mismatch exc) {
        return List.of(List.of(cut(exc.getMessage(), 100), false));
    }

    // ------------------------------------------------------------------ the guard

    interface Body {
        Object call() throws Throwable;
    }

    static final class Outcome {
        String status = "ok";
        Object value;
        List<Object> exc;
        Object line;
    }

    /**
     * Runs body on a fresh thread with a wall-clock deadline. On timeout the thread is
     * stopped (Thread.stop still works on JDK 17); code that swallows ThreadDeath keeps
     * burning CPU until the sandbox's CPU limit ends the run.
     */
    static Outcome guarded(double seconds, Body body) {
        Outcome outcome = new Outcome();
        Object[] result = new Object[1];
        Throwable[] thrown = new Throwable[1];
        boolean[] finished = new boolean[1];
        Thread thread = new Thread(null, () -> {
            try {
                result[0] = body.call();
            } catch (Throwable exc) {
                thrown[0] = exc;
            }
            synchronized (finished) {
                finished[0] = true;
            }
        }, "test", TEST_STACK_BYTES);
        thread.setDaemon(true);
        try {
            thread.start();
        } catch (OutOfMemoryError exc) {
            outcome.status = "memory_limit";
            return outcome;
        }
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        boolean interrupted = false;
        while (thread.isAlive()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                thread.join(Math.max(1, left / 1_000_000));
            } catch (InterruptedException exc) {
                interrupted = true;
            }
        }
        synchronized (finished) {
            if (!finished[0]) {
                stop(thread);
                outcome.status = "timeout";
                return outcome;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable exc = thrown[0];
        if (exc instanceof InvocationTargetException && exc.getCause() != null) {
            exc = exc.getCause();
        }
        if (exc == null) {
            outcome.value = result[0];
        } else if (exc instanceof OutOfMemoryError) {
            outcome.status = "memory_limit";
        } else if (exc instanceof ThreadDeath) {
            outcome.status = "timeout";
        } else {
            outcome.status = "exception";
            outcome.exc = exceptionNames(exc);
            outcome.line = learnerLine(exc);
        }
        return outcome;
    }

    @SuppressWarnings({"deprecation", "removal"})
    static void stop(Thread thread) {
        try {
            thread.stop();
        } catch (RuntimeException exc) {
            // Not supported by this JVM: the CPU limit ends the run.
        }
    }

    static List<Object> exceptionNames(Throwable exc) {
        List<Object> names = new ArrayList<>();
        ClassLoader platform = ClassLoader.getPlatformClassLoader();
        int count = 0;
        for (Class<?> c = exc.getClass(); c != null && c != Object.class && count < 12; c = c.getSuperclass(), count++) {
            ClassLoader loader = c.getClassLoader();
            boolean trusted = loader == null || loader == platform;
            String name = trusted ? c.getSimpleName() : c.getName();
            names.add(List.of(cut(name, 100), trusted));
        }
        return names;
    }

    static Object learnerLine(Throwable exc) {
        for (StackTraceElement frame : exc.getStackTrace()) {
            if (frame.getClassLoaderName() != null && frame.getClassLoaderName().equals("learner")
                    && frame.getLineNumber() > 0) {
                return frame.getLineNumber();
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ hidden records

    static Map<String, Object> outcomeOnly(Map<String, Object> result) {
        Object value = result.get("value");
        if ("ok".equals(result.get("status")) && value instanceof Map && ((Map<?, ?>) value).containsKey("v")) {
            return Json.obj("status", "ok", "value", value);
        }
        if ("exception".equals(result.get("status"))) {
            return Json.obj("status", "exception", "exc", result.get("exc"));
        }
        return Json.obj("status", "failed");
    }

    static Map<String, Object> hiddenRecord(Map<String, Object> record) {
        if (!record.containsKey("calls")) {
            return outcomeOnly(record);
        }
        if (!"ok".equals(record.get("status"))) {
            return Json.obj("status", "failed");
        }
        List<Object> calls = new ArrayList<>();
        for (Object call : Json.asList(record.get("calls"))) {
            calls.add(outcomeOnly(Json.asMap(call)));
        }
        return Json.obj("status", "ok", "calls", calls);
    }

    // ------------------------------------------------------------------ helpers

    static String cut(String text, int limit) {
        if (text == null) {
            return "";
        }
        return text.length() <= limit ? text : text.substring(0, limit);
    }

    static String fmt(double seconds) {
        return seconds == Math.rint(seconds) ? String.valueOf((long) seconds) : String.valueOf(seconds);
    }

    static String snake(String camel) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < camel.length(); i++) {
            char ch = camel.charAt(i);
            if (Character.isUpperCase(ch)) {
                if (i > 0) {
                    out.append('_');
                }
                out.append(Character.toLowerCase(ch));
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }

    /** A test input that does not fit the type the learner's code declares. */
    static final class Mismatch extends Exception {
        private static final long serialVersionUID = 1L;

        Mismatch(String message) {
            super(message, null, false, false);
        }
    }

    // ------------------------------------------------------------------ JSON -> Java

    static final class Convert {
        private Convert() {}

        static Object[] arguments(Type[] types, List<Object> args) throws Mismatch {
            if (types.length != args.size()) {
                throw new Mismatch("expected " + args.size() + " parameter(s), the code declares " + types.length);
            }
            Object[] out = new Object[types.length];
            for (int i = 0; i < types.length; i++) {
                out[i] = to(types[i], args.get(i), "parameter " + (i + 1));
            }
            return out;
        }

        static Mismatch mismatch(String where, Type type) {
            return new Mismatch("cannot pass the input as " + where + " (" + type.getTypeName() + ")");
        }

        static Object to(Type type, Object value, String where) throws Mismatch {
            if (type instanceof WildcardType) {
                Type[] upper = ((WildcardType) type).getUpperBounds();
                return to(upper.length > 0 ? upper[0] : Object.class, value, where);
            }
            if (type instanceof ParameterizedType) {
                ParameterizedType p = (ParameterizedType) type;
                Class<?> raw = (Class<?>) p.getRawType();
                Type[] params = p.getActualTypeArguments();
                if (value == null) {
                    return null;
                }
                if (raw.isAssignableFrom(ArrayList.class) && value instanceof List) {
                    List<Object> out = new ArrayList<>();
                    for (Object item : (List<?>) value) {
                        out.add(to(params[0], item, where));
                    }
                    return out;
                }
                if (raw.isAssignableFrom(LinkedHashMap.class) && value instanceof Map
                        && (params[0] == String.class || params[0] == Object.class)) {
                    Map<String, Object> out = new LinkedHashMap<>();
                    for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                        out.put((String) entry.getKey(), to(params[1], entry.getValue(), where));
                    }
                    return out;
                }
                throw mismatch(where, type);
            }
            if (!(type instanceof Class)) {
                throw mismatch(where, type);
            }
            Class<?> cls = (Class<?>) type;
            if (value == null) {
                if (cls.isPrimitive()) {
                    throw mismatch(where, type);
                }
                return null;
            }
            if (cls == Object.class) {
                return plain(value);
            }
            if (cls == int.class || cls == Integer.class) {
                if (value instanceof Long && (Long) value == ((Long) value).intValue()) {
                    return ((Long) value).intValue();
                }
                throw mismatch(where, type);
            }
            if (cls == long.class || cls == Long.class) {
                if (value instanceof Long) {
                    return value;
                }
                throw mismatch(where, type);
            }
            if (cls == double.class || cls == Double.class) {
                if (value instanceof Long || value instanceof Double) {
                    return ((Number) value).doubleValue();
                }
                if (value instanceof BigInteger) {
                    return ((BigInteger) value).doubleValue();
                }
                throw mismatch(where, type);
            }
            if (cls == boolean.class || cls == Boolean.class) {
                if (value instanceof Boolean) {
                    return value;
                }
                throw mismatch(where, type);
            }
            if (cls == String.class || cls == CharSequence.class) {
                if (value instanceof String) {
                    return value;
                }
                throw mismatch(where, type);
            }
            if (cls == BigInteger.class && (value instanceof Long || value instanceof BigInteger)) {
                return value instanceof Long ? BigInteger.valueOf((Long) value) : value;
            }
            if (cls.isArray()) {
                if (!(value instanceof List)) {
                    throw mismatch(where, type);
                }
                List<?> items = (List<?>) value;
                Object array = Array.newInstance(cls.getComponentType(), items.size());
                for (int i = 0; i < items.size(); i++) {
                    Array.set(array, i, to(cls.getComponentType(), items.get(i), where));
                }
                return array;
            }
            if (cls.isRecord() && value instanceof Map) {
                return record(cls, Json.asMap(value), where);
            }
            if ((cls == List.class || cls == Collection.class || cls == Iterable.class) && value instanceof List) {
                return plain(value);
            }
            if (cls == Map.class && value instanceof Map) {
                return plain(value);
            }
            throw mismatch(where, type);
        }

        static Object record(Class<?> cls, Map<String, Object> value, String where) throws Mismatch {
            RecordComponent[] components = cls.getRecordComponents();
            Class<?>[] types = new Class<?>[components.length];
            Object[] args = new Object[components.length];
            for (int i = 0; i < components.length; i++) {
                RecordComponent component = components[i];
                types[i] = component.getType();
                String key = recordKey(cls, component.getName());
                Object item = value.containsKey(key) ? value.get(key) : value.get(component.getName());
                args[i] = to(component.getGenericType(), item, where + "." + component.getName());
            }
            try {
                Constructor<?> constructor = cls.getDeclaredConstructor(types);
                constructor.setAccessible(true);
                return constructor.newInstance(args);
            } catch (ReflectiveOperationException | RuntimeException exc) {
                throw mismatch(where, cls);
            }
        }

        /** A JSON value as plain Java objects (what an Object/any parameter receives). */
        static Object plain(Object value) {
            if (value instanceof Long) {
                long number = (Long) value;
                return number == (int) number ? (Object) (int) number : value;
            }
            if (value instanceof List) {
                List<Object> out = new ArrayList<>();
                for (Object item : (List<?>) value) {
                    out.add(plain(item));
                }
                return out;
            }
            if (value instanceof Map) {
                Map<String, Object> out = new LinkedHashMap<>();
                for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                    out.put((String) entry.getKey(), plain(entry.getValue()));
                }
                return out;
            }
            return value;
        }
    }

    // ------------------------------------------------------------------ Java -> JSON

    static final class NotJson extends Exception {
        private static final long serialVersionUID = 1L;

        NotJson() {
            super(null, null, false, false);
        }
    }

    static final class Encode {
        private Encode() {}

        /** {"v": json} or {"r": text}; runs on the test's thread (toString is learner code). */
        static Map<String, Object> value(Object value) {
            try {
                Object converted = json(value, 0);
                String text = Json.write(converted);
                if (text.length() > MAX_VALUE_CHARS) {
                    return Json.obj("r", "<a value of " + text.length() + " characters, too large to compare>");
                }
                return Json.obj("v", converted);
            } catch (NotJson | StackOverflowError exc) {
                // fall through to the text
            }
            String text;
            try {
                text = String.valueOf(value);
            } catch (OutOfMemoryError | ThreadDeath exc) {
                throw exc;
            } catch (Throwable exc) {
                text = "<unrepresentable value>";
            }
            return Json.obj("r", cut(text, MAX_REPR_CHARS));
        }

        static Object json(Object value, int depth) throws NotJson {
            if (depth > MAX_DEPTH) {
                throw new NotJson();
            }
            if (value == null || value instanceof Boolean || value instanceof String) {
                return value;
            }
            if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
                return ((Number) value).longValue();
            }
            if (value instanceof BigInteger) {
                return value;
            }
            if (value instanceof Double || value instanceof Float) {
                return ((Number) value).doubleValue();
            }
            if (value instanceof Character) {
                return String.valueOf(value);
            }
            if (value instanceof List) {
                List<Object> out = new ArrayList<>();
                for (Object item : new ArrayList<>((List<?>) value)) {
                    out.add(json(item, depth + 1));
                }
                return out;
            }
            if (value.getClass().isArray()) {
                int length = Array.getLength(value);
                List<Object> out = new ArrayList<>(length);
                for (int i = 0; i < length; i++) {
                    out.add(json(Array.get(value, i), depth + 1));
                }
                return out;
            }
            if (value instanceof Map) {
                Map<String, Object> out = new LinkedHashMap<>();
                for (Map.Entry<?, ?> entry : new ArrayList<>(((Map<?, ?>) value).entrySet())) {
                    if (!(entry.getKey() instanceof String)) {
                        throw new NotJson();
                    }
                    out.put((String) entry.getKey(), json(entry.getValue(), depth + 1));
                }
                return out;
            }
            if (value.getClass().isRecord()) {
                Map<String, Object> out = new LinkedHashMap<>();
                for (RecordComponent component : value.getClass().getRecordComponents()) {
                    Method accessor = component.getAccessor();
                    try {
                        accessor.setAccessible(true);
                        Object item = accessor.invoke(value);
                        if (item == null && isOptional(value.getClass(), component.getName())) {
                            continue; // an optional field holding nothing is left out
                        }
                        out.put(recordKey(value.getClass(), component.getName()), json(item, depth + 1));
                    } catch (IllegalAccessException exc) {
                        throw new NotJson();
                    } catch (InvocationTargetException exc) {
                        Throwable cause = exc.getCause();
                        if (cause instanceof RuntimeException) {
                            throw (RuntimeException) cause;
                        }
                        if (cause instanceof Error) {
                            throw (Error) cause;
                        }
                        throw new NotJson();
                    }
                }
                return out;
            }
            throw new NotJson();
        }
    }

    // ------------------------------------------------------------------ JSON text

    static final class Json {
        private Json() {}

        static Map<String, Object> obj(Object... pairs) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < pairs.length; i += 2) {
                out.put((String) pairs[i], pairs[i + 1]);
            }
            return out;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> asMap(Object value) {
            return value instanceof Map ? (Map<String, Object>) value : new LinkedHashMap<>();
        }

        @SuppressWarnings("unchecked")
        static List<Object> asList(Object value) {
            return value instanceof List ? (List<Object>) value : new ArrayList<>();
        }

        static String write(Object value) {
            StringBuilder out = new StringBuilder();
            write(value, out, 0);
            return out.toString();
        }

        static void write(Object value, StringBuilder out, int depth) {
            if (depth > 200) {
                throw new IllegalStateException("too deep");
            }
            if (value == null) {
                out.append("null");
            } else if (value instanceof Boolean) {
                out.append(((Boolean) value) ? "true" : "false");
            } else if (value instanceof Long || value instanceof Integer || value instanceof BigInteger) {
                out.append(value.toString());
            } else if (value instanceof Double) {
                double d = (Double) value;
                if (Double.isNaN(d)) {
                    out.append("NaN");
                } else if (Double.isInfinite(d)) {
                    out.append(d > 0 ? "Infinity" : "-Infinity");
                } else {
                    out.append(Double.toString(d));
                }
            } else if (value instanceof String) {
                quote((String) value, out);
            } else if (value instanceof List) {
                out.append('[');
                boolean first = true;
                for (Object item : (List<?>) value) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    write(item, out, depth + 1);
                }
                out.append(']');
            } else if (value instanceof Map) {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    quote((String) entry.getKey(), out);
                    out.append(':');
                    write(entry.getValue(), out, depth + 1);
                }
                out.append('}');
            } else {
                throw new IllegalStateException("not JSON");
            }
        }

        static void quote(String text, StringBuilder out) {
            out.append('"');
            for (int i = 0; i < text.length(); i++) {
                char ch = text.charAt(i);
                switch (ch) {
                    case '"': out.append("\\\""); break;
                    case '\\': out.append("\\\\"); break;
                    case '\n': out.append("\\n"); break;
                    case '\r': out.append("\\r"); break;
                    case '\t': out.append("\\t"); break;
                    default:
                        if (ch < 0x20 || ch > 0x7e) {
                            out.append(String.format("\\u%04x", (int) ch));
                        } else {
                            out.append(ch);
                        }
                }
            }
            out.append('"');
        }

        static Object parse(String text) {
            Parser parser = new Parser(text);
            Object value = parser.value(0);
            parser.space();
            if (parser.pos != text.length()) {
                throw new IllegalArgumentException("trailing data");
            }
            return value;
        }

        static final class Parser {
            final String s;
            int pos;

            Parser(String s) {
                this.s = s;
            }

            void space() {
                while (pos < s.length() && " \t\r\n".indexOf(s.charAt(pos)) >= 0) {
                    pos++;
                }
            }

            Object value(int depth) {
                if (depth > 500) {
                    throw new IllegalArgumentException("too deep");
                }
                space();
                if (pos >= s.length()) {
                    throw new IllegalArgumentException("end of input");
                }
                char ch = s.charAt(pos);
                if (ch == '{') {
                    pos++;
                    Map<String, Object> out = new LinkedHashMap<>();
                    space();
                    if (s.charAt(pos) == '}') {
                        pos++;
                        return out;
                    }
                    while (true) {
                        space();
                        String key = string();
                        space();
                        expect(':');
                        out.put(key, value(depth + 1));
                        space();
                        if (s.charAt(pos) == ',') {
                            pos++;
                            continue;
                        }
                        expect('}');
                        return out;
                    }
                }
                if (ch == '[') {
                    pos++;
                    List<Object> out = new ArrayList<>();
                    space();
                    if (s.charAt(pos) == ']') {
                        pos++;
                        return out;
                    }
                    while (true) {
                        out.add(value(depth + 1));
                        space();
                        if (s.charAt(pos) == ',') {
                            pos++;
                            continue;
                        }
                        expect(']');
                        return out;
                    }
                }
                if (ch == '"') {
                    return string();
                }
                if (s.startsWith("true", pos)) {
                    pos += 4;
                    return Boolean.TRUE;
                }
                if (s.startsWith("false", pos)) {
                    pos += 5;
                    return Boolean.FALSE;
                }
                if (s.startsWith("null", pos)) {
                    pos += 4;
                    return null;
                }
                if (s.startsWith("NaN", pos)) {
                    pos += 3;
                    return Double.NaN;
                }
                if (s.startsWith("Infinity", pos)) {
                    pos += 8;
                    return Double.POSITIVE_INFINITY;
                }
                if (s.startsWith("-Infinity", pos)) {
                    pos += 9;
                    return Double.NEGATIVE_INFINITY;
                }
                return number();
            }

            void expect(char ch) {
                if (pos >= s.length() || s.charAt(pos) != ch) {
                    throw new IllegalArgumentException("expected " + ch + " at " + pos);
                }
                pos++;
            }

            String string() {
                expect('"');
                StringBuilder out = new StringBuilder();
                while (true) {
                    char ch = s.charAt(pos++);
                    if (ch == '"') {
                        return out.toString();
                    }
                    if (ch != '\\') {
                        out.append(ch);
                        continue;
                    }
                    char esc = s.charAt(pos++);
                    switch (esc) {
                        case 'n': out.append('\n'); break;
                        case 't': out.append('\t'); break;
                        case 'r': out.append('\r'); break;
                        case 'b': out.append('\b'); break;
                        case 'f': out.append('\f'); break;
                        case 'u':
                            out.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                            pos += 4;
                            break;
                        default: out.append(esc);
                    }
                }
            }

            Object number() {
                int start = pos;
                boolean real = false;
                while (pos < s.length()) {
                    char ch = s.charAt(pos);
                    if (ch == '.' || ch == 'e' || ch == 'E') {
                        real = true;
                    } else if (!(ch == '-' || ch == '+' || (ch >= '0' && ch <= '9'))) {
                        break;
                    }
                    pos++;
                }
                String text = s.substring(start, pos);
                if (text.isEmpty()) {
                    throw new IllegalArgumentException("unexpected character at " + start);
                }
                if (real) {
                    return Double.parseDouble(text);
                }
                BigInteger big = new BigInteger(text);
                return big.bitLength() < 64 ? (Object) big.longValue() : big;
            }
        }
    }
}
