package dev.bolero.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.http.OpenApi;
import dev.bolero.api.testing.OpenApiDocuments;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The node API's document is built from the declared operations: every operation has an id, a tag and its 4XX
 * answers. It is written to {@code target/openapi/node.json} for the Redocly lint in
 * {@code scripts/test.sh}.
 */
class NodeOpenApiTest {
    @Test
    void everyOperationHasAnIdATagAndIts4xxAnswers() {
        JsonNode doc = OpenApi.document(NodeRoutes.INFO, NodeRoutes.ALL);
        int operations = OpenApiDocuments.check("node", doc, Set.of(), Set.of());
        assertThat(operations).isEqualTo(NodeRoutes.ALL.size());
        assertThat(doc.path("components").path("schemas").path("Machine").path("properties").propertyNames())
                .contains("id", "state", "config", "image_digest", "restart_count");
        assertThat(doc.path("paths").path("/api/v1/images/import").path("post").path("requestBody").path("content")
                .propertyNames()).containsExactly("application/json", "application/x-tar");
    }
}
