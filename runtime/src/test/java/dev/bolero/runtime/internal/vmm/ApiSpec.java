package dev.bolero.runtime.internal.vmm;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialect;
import com.networknt.schema.dialect.Draft4;
import com.networknt.schema.dialect.OpenApi30;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * A VMM's published API spec (Swagger 2.0 or OpenAPI 3), as a contract: {@link #violations(ApiRequest)} lists what
 * is wrong with a request the driver would send — an operation the spec lacks, a body where none is expected (or
 * none where one is required), and every schema violation of the body. Objects in the spec's schemas are closed
 * ({@code additionalProperties: false} injected where the spec says nothing), so a field the spec does not have
 * is a violation.
 */
public final class ApiSpec {

    private static final YAMLMapper YAML = YAMLMapper.builder().build();

    private final String name;
    private final JsonNode document;
    private final boolean openApi3;
    private final ObjectNode closedDefinitions;
    private final SchemaRegistry registry;

    private ApiSpec(String name, JsonNode document) {
        this.name = name;
        this.document = document;
        this.openApi3 = document.has("openapi");
        if (!openApi3 && !"2.0".equals(document.path("swagger").asString())) {
            throw new IllegalArgumentException(name + ": neither Swagger 2.0 nor OpenAPI 3");
        }
        Dialect dialect = openApi3 ? OpenApi30.getInstance() : Draft4.getInstance();
        this.registry = SchemaRegistry.withDefaultDialect(dialect);
        this.closedDefinitions = closedDefinitions();
    }

    /** Loads {@code dev/bolero/runtime/specs/<file>} from the test class path (copied from {@code shared/specs}). */
    public static ApiSpec load(String file) {
        String resource = "/dev/bolero/runtime/specs/" + file;
        try (InputStream in = ApiSpec.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("no spec " + resource + " on the class path");
            return new ApiSpec(file, YAML.readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException("read spec " + resource, e);
        }
    }

    /** What is wrong with {@code request} according to the spec; empty when it conforms. */
    public List<String> violations(ApiRequest request) {
        String action = request.describe();
        Optional<JsonNode> operation = operation(request.method(), request.path());
        if (operation.isEmpty()) return List.of(action + ": no such operation in " + name);
        Optional<JsonNode> bodySchema = bodySchema(operation.get());
        boolean required = bodyRequired(operation.get());
        if (request.body().isEmpty()) {
            return required ? List.of(action + ": the spec requires a body, none sent") : List.of();
        }
        if (bodySchema.isEmpty()) return List.of(action + ": the spec takes no body, one sent");
        JsonNode body = VmmApi.JSON.valueToTree(request.body().get());
        return validate(bodySchema.get(), body).stream().map(e -> action + ": " + e).toList();
    }

    /** Schema violations of {@code instance} against {@code schema}, a schema of this spec (refs resolve in it). */
    public List<String> validate(JsonNode schema, JsonNode instance) {
        // The operation's schema is the root; the spec's (closed) definitions stay reachable by their JSON pointers.
        ObjectNode root = closedDefinitions.deepCopy();
        for (Map.Entry<String, JsonNode> field : schema.properties()) root.set(field.getKey(), field.getValue());
        Schema compiled = registry.getSchema(root);
        List<String> messages = new ArrayList<>();
        for (Error error : compiled.validate(instance)) messages.add(error.toString());
        return messages;
    }

    /** The body schema of {@code method path}, for tests that validate hand-made bodies. */
    public JsonNode bodySchemaOf(String method, String path) {
        return operation(method, path).flatMap(this::bodySchema)
                .orElseThrow(() -> new IllegalArgumentException(name + ": no body schema for " + method + " " + path));
    }

    private Optional<JsonNode> operation(String method, String path) {
        for (Map.Entry<String, JsonNode> entry : document.get("paths").properties()) {
            Pattern template = Pattern.compile(
                    Pattern.quote(entry.getKey()).replaceAll("\\{[^}/]+}", "\\\\E[^/]+\\\\Q"));
            if (template.matcher(path).matches() && entry.getValue().has(method.toLowerCase())) {
                return Optional.of(entry.getValue().get(method.toLowerCase()));
            }
        }
        return Optional.empty();
    }

    private Optional<JsonNode> bodySchema(JsonNode operation) {
        if (openApi3) {
            JsonNode schema = operation.path("requestBody").path("content").path("application/json").path("schema");
            return schema.isMissingNode() ? Optional.empty() : Optional.of(schema);
        }
        for (JsonNode parameter : operation.path("parameters")) {
            if ("body".equals(parameter.path("in").asString())) return Optional.of(parameter.get("schema"));
        }
        return Optional.empty();
    }

    private boolean bodyRequired(JsonNode operation) {
        if (openApi3) return operation.path("requestBody").path("required").asBoolean(false);
        for (JsonNode parameter : operation.path("parameters")) {
            if ("body".equals(parameter.path("in").asString())) return parameter.path("required").asBoolean(false);
        }
        return false;
    }

    /**
     * A document holding only the spec's schemas, where its refs point ({@code #/definitions/…} in Swagger 2,
     * {@code #/components/schemas/…} in OpenAPI 3), with every object schema closed:
     * {@code additionalProperties: false} where the spec says nothing.
     */
    private ObjectNode closedDefinitions() {
        ObjectNode root = YAML.createObjectNode();
        JsonNode schemas = openApi3
                ? document.get("components").get("schemas").deepCopy()
                : document.get("definitions").deepCopy();
        for (JsonNode schema : schemas) close(schema);
        if (openApi3) {
            root.putObject("components").set("schemas", schemas);
        } else {
            root.set("definitions", schemas);
        }
        return root;
    }

    private static void close(JsonNode schema) {
        if (!(schema instanceof ObjectNode object)) return;
        if (object.has("properties")) {
            if (!object.has("additionalProperties")) object.put("additionalProperties", false);
            for (JsonNode property : object.get("properties")) close(property);
        }
        if (object.get("additionalProperties") instanceof ObjectNode additional) close(additional);
        if (object.has("items")) close(object.get("items"));
        for (String combinator : List.of("allOf", "anyOf", "oneOf")) {
            for (Iterator<JsonNode> it = object.path(combinator).iterator(); it.hasNext(); ) close(it.next());
        }
    }
}
