package dev.bolero.api;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.temporal.Temporal;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import dev.bolero.core.ValidationException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonPointer;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.TokenStreamContext;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.cfg.EnumFeature;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.databind.exc.ValueInstantiationException;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.type.LogicalType;

/**
 * The one JSON mapping of the wire records: snake_case names, ISO-8601 instants, and strict reading.
 *
 * <p>Strict means: unknown fields and duplicate keys are refused, nothing is coerced (a string is not a number, a
 * number is not a string or a boolean, {@code 512.5} is not an integer, {@code ""} is not an absent object), null is
 * not a value for a number or a boolean, and enums are read by their wire names only. Errors never name a Java class
 * or a parser feature: {@link #parse} turns every refusal into a message naming the field's path in the document
 * ({@code create machine: guest.memory_mb must be an integer}).
 */
public final class ApiJson {
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(EnumFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .withCoercionConfigDefaults(c -> {
                for (CoercionInputShape shape : CoercionInputShape.values()) c.setCoercion(shape, CoercionAction.Fail);
                c.setAcceptBlankAsEmpty(false);
            })
            .withCoercionConfig(LogicalType.Textual, c -> {
                c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
                c.setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
                c.setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
            })
            .disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
            .build();

    private ApiJson() {}

    /** The shared, immutable mapper. */
    public static JsonMapper mapper() {
        return MAPPER;
    }

    /**
     * Parses a request body strictly.
     *
     * @param action what the request asks for, to start error messages ({@code create machine})
     * @throws ApiException {@code invalid_argument} for an empty body, JSON's null, malformed JSON, a duplicate key,
     *     an unknown field, a value of the wrong JSON type (each named by its path), or a value a record refuses (its own
     *     message, after the path of the object that refused it; a {@link ValidationException}'s names its path)
     */
    public static <T> T parse(String body, Class<T> type, String action) {
        if (body == null || body.isBlank()) throw empty(action);
        return parsed(() -> MAPPER.readValue(body, type), action);
    }

    /**
     * Parses a request body as it came, as JSON's bytes (UTF-8, RFC 8259; UTF-16 and UTF-32 are told by their byte
     * patterns; bytes invalid in the encoding are refused, not replaced), as strictly as {@link #parse(String, Class,
     * String)}: without decoding it into a string first.
     *
     * @param length how many of {@code body}'s bytes, from its start, are the body
     * @throws ApiException as {@link #parse(String, Class, String)} does
     */
    public static <T> T parse(byte[] body, int length, Class<T> type, String action) {
        if (blank(body, length)) throw empty(action);
        return parsed(() -> MAPPER.readValue(body, 0, length, type), action);
    }

    private static ApiException empty(String action) {
        return ApiException.invalid(action + ": the request body is empty");
    }

    /** Whether {@code body}'s first {@code length} bytes are JSON whitespace only (or none). */
    public static boolean blank(byte[] body, int length) {
        for (int i = 0; i < length; i++) {
            byte b = body[i];
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return false;
        }
        return true;
    }

    private interface Reading<T> {
        T read() throws JacksonException;
    }

    private static <T> T parsed(Reading<T> reading, String action) {
        T value;
        try {
            value = reading.read();
        } catch (JacksonException e) {
            throw refusal(action, e);
        }
        // JSON's null (which the parser returns as is, even before a stray token) is no body of any request.
        if (value == null) throw ApiException.invalid(action + ": the request body must be a JSON object, not null");
        return value;
    }

    /**
     * The {@code invalid_argument} error for JSON that Jackson refused, in the API's words: the failed action, the
     * field's path and what was wrong, never a Java type, class or parser feature.
     */
    public static ApiException refusal(String action, JacksonException e) {
        String path = path(e);
        String where = path.isEmpty() ? "the request body" : path;
        if (e.getCause() instanceof ValidationException invalid) return ApiException.invalid(invalid);
        return switch (e) {
            case UnrecognizedPropertyException u -> ApiException.invalid(action + ": unknown field '" + path + "'");
            case ValueInstantiationException v -> refusedByRecord(action, path, v.getCause());
            case MismatchedInputException m when m.getOriginalMessage() != null
                    && m.getOriginalMessage().startsWith("Trailing token") ->
                    ApiException.invalid(action + ": malformed JSON: more after the end of the JSON value");
            case MismatchedInputException m ->
                    ApiException.invalid(action + ": " + where + " must be " + expected(m.getTargetType()));
            case InputCoercionException c -> ApiException.invalid(action + ": " + where + " is out of range for "
                    + (c.getTargetType() == Long.TYPE ? "a 64-bit" : "a 32-bit") + " integer");
            case StreamConstraintsException c -> ApiException.invalid(action + ": the JSON exceeds a size limit "
                    + "(nesting depth, number or string length)");
            case StreamReadException r when duplicate(r) != null ->
                    ApiException.invalid(action + ": duplicate field '" + within(path, duplicate(r)) + "'");
            case StreamReadException r -> ApiException.invalid(action + ": malformed JSON at " + location(r) + ": "
                    + plain(r.getOriginalMessage()));
            default -> ApiException.invalid(action + ": " + where + " is not valid");
        };
    }

    /** The key a duplicate-key error names, or null for another error. */
    private static String duplicate(StreamReadException e) {
        String message = e.getOriginalMessage();
        if (message == null || !message.startsWith("Duplicate")) return null;
        Matcher quoted = Pattern.compile("\"(.*)\"").matcher(message);
        return quoted.find() ? quoted.group(1) : "?";
    }

    /**
     * Whether a record's own message already says where it is: it starts with the path, or with the path's last field
     * ({@code services: …} for {@code services[0]}, {@code guest.cpus …} for {@code config.guest}).
     */
    private static boolean namesItself(String message, String path) {
        String bare = path.replaceAll("\\[\\d+]", "");
        String last = bare.substring(bare.lastIndexOf('.') + 1);
        return message.startsWith(path) || message.startsWith(bare) || message.startsWith(last);
    }

    /** {@code key} inside the object at {@code path}, unless the path already ends with it. */
    private static String within(String path, String key) {
        if (path.equals(key) || path.endsWith("." + key)) return path;
        return path.isEmpty() ? key : path + "." + key;
    }

    private static ApiException refusedByRecord(String action, String path, Throwable cause) {
        String prefix = path.isEmpty() ? "" : path + ": ";
        return switch (cause) {
            case ValidationException invalid -> ApiException.invalid(invalid);
            case ApiException api when namesItself(api.getMessage(), path) -> api;
            case ApiException api -> new ApiException(api.code(), prefix + api.getMessage());
            case NullPointerException npe when npe.getMessage() != null && npe.getMessage().matches("\\w+") ->
                    ApiException.invalid(action + ": " + (path.isEmpty() ? "" : path + ".")
                            + wireName(npe.getMessage()) + " is required");
            case IllegalArgumentException iae when iae.getMessage() != null ->
                    ApiException.invalid(action + ": " + prefix + iae.getMessage());
            case null, default -> ApiException.invalid(action + ": " + (path.isEmpty() ? "the request body" : path)
                    + " is not valid");
        };
    }

    /**
     * The wire name of a Java field or record component ({@code memoryMb} → {@code memory_mb}), as the mapper names
     * it.
     */
    public static String wireName(String javaName) {
        return SNAKE.wire(javaName);
    }

    private static final Snake SNAKE = new Snake();

    /** The mapper's naming strategy, with its translation reachable. */
    private static final class Snake extends PropertyNamingStrategies.SnakeCaseStrategy {
        String wire(String javaName) {
            return translate(javaName);
        }
    }

    /** What a value of {@code type} is, in JSON's words: "an integer", "a string", "one of a, b". */
    private static String expected(Class<?> type) {
        if (type == null) return "valid";
        if (type == Integer.TYPE || type == Integer.class || type == Long.TYPE || type == Long.class
                || type == Short.TYPE || type == Short.class || type == Byte.TYPE || type == Byte.class
                || type == BigInteger.class) {
            return "an integer";
        }
        if (type == Double.TYPE || type == Double.class || type == Float.TYPE || type == Float.class
                || type == BigDecimal.class) {
            return "a number";
        }
        if (type == Boolean.TYPE || type == Boolean.class) return "true or false";
        if (CharSequence.class.isAssignableFrom(type) || type == Character.class || type == Character.TYPE) {
            return "a string";
        }
        if (type.isEnum()) {
            return "one of " + Stream.of(type.getEnumConstants())
                    .map(c -> MAPPER.writeValueAsString(c).replace("\"", ""))
                    .collect(Collectors.joining(", "));
        }
        if (Temporal.class.isAssignableFrom(type)) return "an RFC 3339 time (2026-01-02T15:04:05Z)";
        if (writtenAsString(type)) return "a string";
        if (Collection.class.isAssignableFrom(type) || type.isArray()) return "an array";
        return "an object";
    }

    /**
     * Whether values of {@code type} are written as one JSON string: the type names a public {@code @JsonValue} method
     * (or record component) of type {@code String}, as the image references and digests do.
     */
    public static boolean writtenAsString(Class<?> type) {
        return !type.isEnum() && Stream.of(type.getMethods()).anyMatch(m -> m.getReturnType() == String.class
                && m.getParameterCount() == 0 && m.isAnnotationPresent(com.fasterxml.jackson.annotation.JsonValue.class));
    }

    /** The path of the value that failed: {@code guest.memory_mb}, {@code services[1].port}; empty for the root. */
    public static String path(JacksonException e) {
        List<JacksonException.Reference> refs = e.getPath();
        if (!refs.isEmpty()) {
            StringBuilder out = new StringBuilder();
            for (JacksonException.Reference ref : refs) {
                if (ref.getPropertyName() != null) {
                    if (!out.isEmpty()) out.append('.');
                    out.append(ref.getPropertyName());
                } else if (ref.getIndex() >= 0) {
                    out.append('[').append(ref.getIndex()).append(']');
                }
            }
            return out.toString();
        }
        // Errors of the parser itself (duplicates, numbers out of range) carry where the parser was.
        if (e.processor() instanceof JsonParser parser) return pointerPath(parser.streamReadContext());
        return "";
    }

    private static String pointerPath(TokenStreamContext context) {
        if (context == null) return "";
        StringBuilder out = new StringBuilder();
        for (JsonPointer p = context.pathAsPointer(); p != null && !p.matches(); p = p.tail()) {
            if (p.mayMatchElement()) {
                out.append('[').append(p.getMatchingIndex()).append(']');
            } else {
                if (!out.isEmpty()) out.append('.');
                out.append(p.getMatchingProperty());
            }
        }
        return out.toString();
    }

    private static String location(StreamReadException e) {
        var at = e.getLocation();
        return at == null ? "an unknown place" : "line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    /**
     * A parser message without its asides about parser features and Java types: its first line, character codes
     * dropped, cut where an aside about the parser's configuration or a Java name starts.
     */
    private static String plain(String message) {
        if (message == null) return "unreadable";
        String line = message.lines().findFirst().orElse("").replaceAll(" \\(code -?\\d+\\)", "").strip();
        for (String marker : List.of(" (not recognized", " (for ", " (start marker", "[Source", "Feature", "`", "java.",
                "tools.jackson")) {
            int at = line.indexOf(marker);
            if (at > 0) line = line.substring(0, at).strip();
        }
        return line.isEmpty() ? "unreadable" : line;
    }
}
