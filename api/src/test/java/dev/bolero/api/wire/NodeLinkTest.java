package dev.bolero.api.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.ApiException;
import dev.bolero.api.ApiJson;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class NodeLinkTest {
    private static final String KEY = Base64.getEncoder().encodeToString(new byte[32]);

    @Test
    void aLinkIsAWireGuardKeyAndAnIpv4EndpointAndReadsFromSnakeCaseJson() {
        var link = ApiJson.mapper().readValue("{\"public_key\": \"" + KEY + "\", \"endpoint\": \"192.0.2.7:51820\", "
                + "\"kind\": \"userspace\"}", NodeLink.class);
        assertThat(link).isEqualTo(new NodeLink(KEY, "192.0.2.7:51820", WireGuardKind.USERSPACE));
        assertThat(NodeLink.endpointPort("192.0.2.7:51820")).isEqualTo(51820);
    }

    @Test
    void malformedKeysAndEndpointsAreRefusedNamingTheField() {
        assertThatThrownBy(() -> new NodeLink("short", "192.0.2.7:51820", null)).isInstanceOf(ApiException.class)
                .hasMessageContaining("public_key");
        for (String endpoint : new String[] {"host:51820", "192.0.2.7", "192.0.2.7:0", "192.0.2.7:70000",
                "256.0.0.1:1", null}) {
            assertThatThrownBy(() -> new NodeLink(KEY, endpoint, null)).as(endpoint).isInstanceOf(ApiException.class)
                    .hasMessageContaining("endpoint");
        }
    }
}
