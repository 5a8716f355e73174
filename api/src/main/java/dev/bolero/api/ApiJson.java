package dev.bolero.api;

import dev.bolero.core.ValidationException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.databind.exc.ValueInstantiationException;
import tools.jackson.databind.json.JsonMapper;

/** The one JSON mapping of the wire records: snake_case names, unknown fields rejected, ISO-8601 instants. */
public final class ApiJson {
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
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
     * @throws ApiException {@code invalid_argument} for an empty body, malformed JSON, an unknown field (named), or a
     *     value a record refuses (its own message, for a {@link ValidationException} the field's path first)
     */
    public static <T> T parse(String body, Class<T> type, String action) {
        if (body == null || body.isBlank()) throw ApiException.invalid(action + ": the request body is empty");
        try {
            return MAPPER.readValue(body, type);
        } catch (UnrecognizedPropertyException e) {
            throw ApiException.invalid(action + ": unknown field '" + e.getPropertyName() + "'");
        } catch (ValueInstantiationException e) {
            if (e.getCause() instanceof ApiException api) throw api;
            if (e.getCause() instanceof ValidationException invalid) throw ApiException.invalid(invalid.getMessage());
            throw ApiException.invalid(action + ": " + e.getOriginalMessage());
        } catch (JacksonException e) {
            if (e.getCause() instanceof ValidationException invalid) throw ApiException.invalid(invalid.getMessage());
            throw ApiException.invalid(action + ": malformed JSON: " + e.getOriginalMessage());
        }
    }
}
