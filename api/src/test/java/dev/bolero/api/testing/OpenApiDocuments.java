package dev.bolero.api.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.ApiJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/** Checks shared by the tests of the generated documents. */
public final class OpenApiDocuments {
    private OpenApiDocuments() {}

    /**
     * Writes {@code document} to {@code target/openapi/<name>.json}, where {@code scripts/test.sh} lints it with
     * Redocly, and asserts that every operation has an {@code operationId}, one tag and a {@code 4XX} answer (those on
     * {@code without4xx} paths aside), and that no path starts with one of {@code unpublished}.
     *
     * @return the number of operations
     */
    public static int check(String name, JsonNode document, Set<String> without4xx, Set<String> unpublished) {
        try {
            Path out = Path.of("target", "openapi", name + ".json");
            Files.createDirectories(out.getParent());
            Files.writeString(out, ApiJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(document));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int operations = 0;
        for (Map.Entry<String, JsonNode> path : document.path("paths").properties()) {
            for (String prefix : unpublished) assertThat(path.getKey()).as("not published").doesNotStartWith(prefix);
            for (Map.Entry<String, JsonNode> op : path.getValue().properties()) {
                String what = op.getKey() + " " + path.getKey();
                assertThat(op.getValue().path("operationId").asString()).as(what).isNotEmpty();
                assertThat(op.getValue().path("tags").size()).as(what).isEqualTo(1);
                if (!without4xx.contains(path.getKey())) {
                    assertThat(op.getValue().path("responses").propertyNames()).as(what)
                            .anyMatch(s -> s.startsWith("4"));
                }
                operations++;
            }
        }
        return operations;
    }
}
