package dev.bolero.api.http;

import com.github.victools.jsonschema.generator.CustomDefinition;
import com.github.victools.jsonschema.generator.Option;
import com.github.victools.jsonschema.generator.OptionPreset;
import com.github.victools.jsonschema.generator.SchemaBuilder;
import com.github.victools.jsonschema.generator.SchemaGenerator;
import com.github.victools.jsonschema.generator.SchemaGeneratorConfigBuilder;
import com.github.victools.jsonschema.generator.SchemaVersion;
import com.github.victools.jsonschema.module.jackson.JacksonModule;
import com.github.victools.jsonschema.module.jackson.JacksonOption;
import dev.bolero.api.ApiError;
import dev.bolero.api.ApiJson;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds an API's OpenAPI 3.1 document from its {@link Operation}s: paths, parameters, request and response bodies,
 * and one JSON schema per record, derived from the Java types by victools' generator with the API's own JSON rules
 * (snake_case names, enums by their wire names, unknown fields refused: {@code additionalProperties: false},
 * {@code null} allowed for every field that is not a Java primitive).
 */
public final class OpenApi {
    private static final Map<Integer, String> STATUS_TEXT = Map.ofEntries(
            Map.entry(200, "OK"), Map.entry(201, "Created"), Map.entry(204, "No content"),
            Map.entry(400, "The request is malformed or illegal (invalid_argument, failed_precondition)"),
            Map.entry(401, "No token, or an unknown one (unauthenticated)"),
            Map.entry(403, "The token's scope does not allow this route (permission_denied), or the request would "
                    + "take the namespace past its quota (quota_exceeded)"),
            Map.entry(404, "No such object, or one the token may not see (not_found)"),
            Map.entry(408, "The wait ran out of time (timeout)"),
            Map.entry(409, "The object's state forbids the request (conflict)"),
            Map.entry(413, "The request body is too large (too_large)"),
            Map.entry(415, "The request body is not JSON (unsupported_media_type)"),
            Map.entry(429, "The token made more requests than its rate allows; Retry-After says when to retry "
                    + "(rate_limited)"),
            Map.entry(500, "An internal error (internal)"),
            Map.entry(503, "The machine's node or this replica cannot answer now (unavailable)"));

    private static final Map<String, String> PATH_PARAMS = Map.of("ns", "the namespace's name",
            "fleet", "the fleet's name", "id", "the machine's or node's id",
            "digest", "the image's digest (sha256:…)",
            "stream", "the stream's id", "secret", "the secret's name", "token", "the token's id",
            "volume", "the volume's name");

    /**
     * What an API says about itself.
     *
     * @param title the document's title
     * @param version the API's version
     * @param description what the API is, in a few sentences
     * @param bearerAuth whether every operation needs {@code Authorization: Bearer TOKEN} (and may answer 401)
     * @param tags every tag the operations use, with its description
     * @param commonErrors error statuses any operation may answer with (a replica shutting down: 503)
     */
    public record Info(String title, String version, String description, boolean bearerAuth,
                       Map<String, String> tags, List<Integer> commonErrors) {
        public Info {
            commonErrors = List.copyOf(commonErrors);
            Objects.requireNonNull(title, "title");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(description, "description");
            tags = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tags));
        }
    }

    private OpenApi() {}

    /**
     * The error statuses {@code operation} may answer with: its declared ones, plus 400 when it reads a body, query or
     * path parameters (a refused value, or an object that cannot do it now: {@code failed_precondition}), 404 when its
     * path names an object, 413 and 415 unless it streams a raw body, the API's common ones, 401 in an API with bearer
     * tokens (unless the operation is anonymous), and 500 always.
     */
    public static Set<Integer> errorStatuses(Info info, Operation operation) {
        Set<Integer> statuses = new TreeSet<>(operation.errors());
        statuses.addAll(info.commonErrors());
        if (!operation.requests().isEmpty() || !operation.query().isEmpty() || !operation.pathParams().isEmpty()) {
            statuses.add(400); // a refused value, or an object whose state or node cannot do it (failed_precondition)
        }
        if (!operation.pathParams().isEmpty()) statuses.add(404);
        if (operation.takesJson()) {
            // The router refuses a body over its limit, or one that is not JSON, on every route that reads JSON or
            // nothing.
            statuses.add(413);
            statuses.add(415);
        }
        if (info.bearerAuth() && !operation.anonymous()) statuses.add(401);
        statuses.add(500);
        return statuses;
    }

    /** The document describing the published {@code operations}. */
    public static ObjectNode document(Info info, List<Operation> operations) {
        SchemaBuilder schemas = generator().buildMultipleSchemaDefinitions();
        ObjectNode root = ApiJson.mapper().createObjectNode();
        root.put("openapi", "3.1.0");
        ObjectNode about = root.putObject("info");
        about.put("title", info.title()).put("version", info.version()).put("description", info.description());
        root.putArray("servers").addObject().put("url", "/").put("description", "the server that serves this document");
        Set<String> used = new LinkedHashSet<>();
        ObjectNode paths = root.putObject("paths");
        for (Operation op : operations) {
            if (!op.published()) continue;
            used.add(op.tag());
            ObjectNode item = paths.has(op.path()) ? (ObjectNode) paths.get(op.path()) : paths.putObject(op.path());
            ObjectNode o = item.putObject(op.method().lower());
            o.put("operationId", op.id());
            o.putArray("tags").add(op.tag());
            o.put("summary", op.summary());
            if (!op.description().isEmpty()) o.put("description", op.description());
            if (op.anonymous()) o.putArray("security");
            ArrayNode params = ApiJson.mapper().createArrayNode();
            for (String name : op.pathParams()) {
                params.addObject().put("name", name).put("in", "path").put("required", true)
                        .put("description", PATH_PARAMS.getOrDefault(name, "the " + name.replace('_', ' ')))
                        .putObject("schema").put("type", "string");
            }
            for (Operation.Param q : op.query()) {
                params.addObject().put("name", q.name()).put("in", "query").put("required", false)
                        .put("description", q.description()).putObject("schema").put("type", q.type());
            }
            if (!params.isEmpty()) o.set("parameters", params);
            if (!op.requests().isEmpty()) {
                ObjectNode request = o.putObject("requestBody");
                request.put("required", true);
                ObjectNode content = request.putObject("content");
                for (Operation.Body body : op.requests()) content.set(body.media(), mediaSchema(schemas, body));
            }
            ObjectNode responses = o.putObject("responses");
            ObjectNode success = responses.putObject(Integer.toString(op.status()));
            success.put("description", STATUS_TEXT.getOrDefault(op.status(), "Success"));
            if (!op.responses().isEmpty()) {
                ObjectNode content = success.putObject("content");
                for (Operation.Body body : op.responses()) content.set(body.media(), mediaSchema(schemas, body));
            }
            for (int status : errorStatuses(info, op)) {
                ObjectNode error = responses.putObject(Integer.toString(status));
                error.put("description", STATUS_TEXT.getOrDefault(status, "An error"));
                error.putObject("content").putObject(Operation.Body.JSON).set("schema",
                        schemas.createSchemaReference(ApiError.class));
            }
        }
        ArrayNode tags = root.putArray("tags");
        for (var tag : info.tags().entrySet()) {
            if (used.contains(tag.getKey())) {
                tags.addObject().put("name", tag.getKey()).put("description", tag.getValue());
            }
        }
        List<String> undescribed = new ArrayList<>(used);
        undescribed.removeAll(info.tags().keySet());
        if (!undescribed.isEmpty()) throw new IllegalArgumentException(info.title() + ": tags without a description: "
                + undescribed);
        ObjectNode components = root.putObject("components");
        components.set("schemas", schemas.collectDefinitions("components/schemas"));
        if (info.bearerAuth()) {
            components.putObject("securitySchemes").putObject("bearer").put("type", "http").put("scheme", "bearer")
                    .put("description", "An API token: admin, namespace-scoped, or a node's");
            root.putArray("security").addObject().putArray("bearer");
        } else {
            root.putArray("security"); // no authentication: every operation is open
        }
        return root;
    }

    private static ObjectNode mediaSchema(SchemaBuilder schemas, Operation.Body body) {
        ObjectNode media = ApiJson.mapper().createObjectNode();
        if (!body.json()) {
            ObjectNode schema = media.putObject("schema").put("type", "string");
            if (!body.media().startsWith("text/") && !body.media().contains("ndjson")) schema.put("format", "binary");
            return media;
        }
        ObjectNode ref = schemas.createSchemaReference(body.type());
        if (body.array()) {
            media.putObject("schema").put("type", "array").set("items", ref);
        } else {
            media.set("schema", ref);
        }
        return media;
    }

    private static SchemaGenerator generator() {
        var config = new SchemaGeneratorConfigBuilder(ApiJson.mapper(), SchemaVersion.DRAFT_2020_12,
                OptionPreset.PLAIN_JSON)
                .with(new JacksonModule(JacksonOption.FLATTENED_ENUMS_FROM_JSONVALUE))
                .with(Option.FORBIDDEN_ADDITIONAL_PROPERTIES_BY_DEFAULT, Option.DEFINITIONS_FOR_ALL_OBJECTS,
                        Option.PLAIN_DEFINITION_KEYS,
                        Option.NULLABLE_FIELDS_BY_DEFAULT, Option.FLATTENED_OPTIONALS,
                        Option.EXTRA_OPEN_API_FORMAT_VALUES)
                .without(Option.SCHEMA_VERSION_INDICATOR, Option.PUBLIC_STATIC_FIELDS, Option.NONPUBLIC_STATIC_FIELDS);
        config.forTypesInGeneral().withCustomDefinitionProvider((type, context) -> {
            // A JSON tree (the document itself) is any object.
            if (JsonNode.class.isAssignableFrom(type.getErasedType())) {
                return new CustomDefinition(ApiJson.mapper().createObjectNode().put("type", "object"),
                        CustomDefinition.DefinitionType.INLINE, CustomDefinition.AttributeInclusion.NO);
            }
            // A value type written as one string (an image reference, a digest) is a string.
            if (ApiJson.writtenAsString(type.getErasedType())) {
                return new CustomDefinition(ApiJson.mapper().createObjectNode().put("type", "string"),
                        CustomDefinition.DefinitionType.INLINE, CustomDefinition.AttributeInclusion.NO);
            }
            // A map is an object of its values, written where it is used.
            if (Map.class.isAssignableFrom(type.getErasedType())) {
                ObjectNode map = ApiJson.mapper().createObjectNode().put("type", "object");
                map.set("additionalProperties", context.createDefinitionReference(
                        type.getTypeParameters().size() == 2 ? type.getTypeParameters().get(1)
                                : context.getTypeContext().resolve(Object.class)));
                return new CustomDefinition(map, CustomDefinition.DefinitionType.INLINE,
                        CustomDefinition.AttributeInclusion.NO);
            }
            return null;
        });
        config.forFields().withPropertyNameOverrideResolver(f -> ApiJson.wireName(f.getDeclaredName()));
        config.forFields().withNullableCheck(f -> !f.getType().getErasedType().isPrimitive());
        config.forTypesInGeneral().withDefinitionNamingStrategy((key, context) -> {
            Class<?> type = key.getType().getErasedType();
            String name = type.getName().substring(type.getPackageName().length() + 1).replace("$", "");
            return key.getType().getTypeParameters().isEmpty() ? name : name + key.getType().getTypeParameters()
                    .stream().map(t -> t.getErasedType().getSimpleName()).reduce("", String::concat);
        });
        return new SchemaGenerator(config.build());
    }
}
