package dev.bolero.api.testing;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.OpenApi31;
import dev.bolero.api.ApiJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * An API's served OpenAPI document as a contract for the answers tests receive, as Firecracker's test suite checks
 * its API against its spec: {@link #violations} lists what is wrong with one answer — a status its operation does not
 * declare, a JSON body where the document has none, and every schema violation of the body. An answer on a path no
 * operation has must be an error in the API's error shape.
 */
public final class ApiContract {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Map<String, ApiContract> SERVED = new ConcurrentHashMap<>();

    private final JsonNode document;
    private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(OpenApi31.getInstance());
    private final Map<JsonNode, Schema> compiled = new ConcurrentHashMap<>();
    private final List<Map.Entry<Pattern, JsonNode>> paths = new ArrayList<>();

    /** The contract of {@code document}, an OpenAPI 3.1 document. */
    public ApiContract(JsonNode document) {
        this.document = document;
        List<Map.Entry<String, JsonNode>> templates = new ArrayList<>(document.path("paths").properties());
        // Literal paths first: /v1/nodes/join before /v1/nodes/{id}.
        templates.sort(Comparator.comparingLong(e -> e.getKey().chars().filter(c -> c == '{').count()));
        for (var t : templates) {
            String regex = Pattern.quote(t.getKey()).replaceAll("\\{[^}/]+}", "\\\\E[^/]+\\\\Q");
            paths.add(Map.entry(Pattern.compile(regex), t.getValue()));
        }
    }

    /** The contract served at {@code documentUrl}, fetched once per URL. */
    public static ApiContract served(String documentUrl) {
        return SERVED.computeIfAbsent(documentUrl, url -> {
            try {
                var response = CLIENT.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() != 200) {
                    throw new IllegalStateException("GET " + url + ": " + response.statusCode() + " "
                            + response.body());
                }
                return new ApiContract(ApiJson.mapper().readTree(response.body()));
            } catch (IOException e) {
                throw new UncheckedIOException("GET " + url, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("GET " + url + ": interrupted", e);
            }
        });
    }

    /**
     * Checks one answer against the document served at {@code documentUrl}.
     *
     * @throws AssertionError listing what is wrong with the answer, and its body
     */
    public static void check(String documentUrl, String method, String path, int status, String contentType,
            String body) {
        List<String> violations = served(documentUrl).violations(method, path, status, contentType, body);
        if (!violations.isEmpty()) {
            throw new AssertionError("the answer does not match " + documentUrl + ":\n"
                    + String.join("\n", violations) + "\nbody: " + body);
        }
    }

    /** Whether the document has an operation for {@code method path} (the path without its query). */
    public boolean describes(String method, String path) {
        return operation(method, path).isPresent();
    }

    /**
     * What is wrong with an answer to {@code method path} (the path without its query); empty when it conforms.
     *
     * @param contentType the answer's {@code Content-Type}, or null
     */
    public List<String> violations(String method, String path, int status, String contentType, String body) {
        String what = method + " " + path + " → " + status;
        Optional<JsonNode> operation = operation(method, path);
        JsonNode answer;
        if (operation.isEmpty()) {
            if (status < 400) return List.of(what + ": no operation in the document answers this");
            answer = errorAnswer();
        } else {
            JsonNode responses = operation.get().path("responses");
            answer = responses.path(Integer.toString(status));
            if (answer.isMissingNode()) answer = responses.path(status / 100 + "XX");
            if (answer.isMissingNode()) answer = responses.path("default");
            if (answer.isMissingNode()) return List.of(what + ": the operation does not declare this status");
        }
        JsonNode content = answer.path("content");
        if (content.isMissingNode() || content.isEmpty()) {
            return body == null || body.isEmpty() ? List.of() : List.of(what + ": a body where the document has none");
        }
        String media = contentType == null ? "" : contentType.split(";")[0].strip();
        if (!content.has(media)) {
            return List.of(what + ": content type '" + media + "' is not one of " + content.propertyNames());
        }
        if (!media.equals("application/json")) return List.of();
        JsonNode instance;
        try {
            instance = ApiJson.mapper().readTree(body);
        } catch (JacksonException e) {
            return List.of(what + ": the body is not JSON: " + e.getOriginalMessage());
        }
        List<String> out = new ArrayList<>();
        for (Error error : schema(content.path(media).path("schema")).validate(instance)) {
            out.add(what + ": " + error);
        }
        return out;
    }

    private JsonNode errorAnswer() {
        ObjectNode answer = ApiJson.mapper().createObjectNode();
        answer.putObject("content").putObject("application/json").putObject("schema")
                .put("$ref", "#/components/schemas/ApiError");
        return answer;
    }

    private Optional<JsonNode> operation(String method, String path) {
        for (var p : paths) {
            if (p.getKey().matcher(path).matches()) {
                JsonNode op = p.getValue().path(method.toLowerCase(java.util.Locale.ROOT));
                if (!op.isMissingNode()) return Optional.of(op);
            }
        }
        return Optional.empty();
    }

    /** The schema as the root of a document holding the document's components, so its refs resolve. */
    private Schema schema(JsonNode schema) {
        return compiled.computeIfAbsent(schema, s -> {
            ObjectNode root = ApiJson.mapper().createObjectNode();
            root.set("components", document.path("components"));
            for (Map.Entry<String, JsonNode> field : s.properties()) root.set(field.getKey(), field.getValue());
            return registry.getSchema(root);
        });
    }
}
