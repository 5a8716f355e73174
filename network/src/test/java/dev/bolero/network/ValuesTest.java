package dev.bolero.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ValuesTest {

    private static NetworkConfig config(String pool, int prefix, String devicePrefix, String publish) {
        return new NetworkConfig(pool, prefix, devicePrefix, "bolero", publish, List.of(), Optional.empty());
    }

    @Test
    void defaultsDescribeTheIssuesLayout() {
        var c = NetworkConfig.defaults("192.0.2.10");
        assertThat(c.pool()).isEqualTo("10.210.0.0/16");
        assertThat(c.namespacePrefix()).isEqualTo(24);
        assertThat(c.devicePrefix()).isEqualTo("bl");
        assertThat(c.table()).isEqualTo("bolero");
    }

    @Test
    void configRejectsWhatCannotWork() {
        assertThatThrownBy(() -> config("10.210.0.1/16", 24, "bl", "192.0.2.1")).hasMessageContaining("host bits set");
        assertThatThrownBy(() -> config("10.210.0.0/16", 8, "bl", "192.0.2.1")).hasMessageContaining("namespace prefix");
        assertThatThrownBy(() -> config("10.210.0.0/16", 31, "bl", "192.0.2.1")).hasMessageContaining("namespace prefix");
        assertThatThrownBy(() -> config("10.210.0.0/16", 24, "Bolero", "192.0.2.1")).hasMessageContaining("device prefix");
        assertThatThrownBy(() -> config("10.210.0.0/16", 24, "bltoolong", "192.0.2.1")).hasMessageContaining("device prefix");
        assertThatThrownBy(() -> config("16.0.0.0/4", 30, "abcdef", "192.0.2.1")).hasMessageContaining("exceed 15");
        assertThatThrownBy(() -> config("10.210.0.0/16", 24, "bl", "127.0.0.1")).hasMessageContaining("loopback");
        assertThatThrownBy(() -> config("10.210.0.0/16", 24, "bl", "10.210.9.9")).hasMessageContaining("lies in the pool");
        assertThatThrownBy(() -> config("10.210.0.0/16", 24, "bl", "256.1.1.1")).hasMessageContaining("not an IPv4 address");
        assertThatThrownBy(() -> new NetworkConfig("10.210.0.0/16", 24, "bl", "bo lero", "192.0.2.1", List.of(), Optional.empty()))
                .hasMessageContaining("table");
    }

    @Test
    void servicesNeedValidPortsAndARequestPublishesEachPortOnce() {
        assertThatThrownBy(() -> new Service(Service.Protocol.TCP, 0, 80)).hasMessage("internal_port must be between 1 and 65535, got 0");
        assertThatThrownBy(() -> new Service(Service.Protocol.UDP, 80, 65536)).hasMessage("port must be between 1 and 65535, got 65536");
        var tcp = new Service(Service.Protocol.TCP, 80, 8080);
        assertThatThrownBy(() -> new NetworkRequest(true, List.of(tcp, new Service(Service.Protocol.TCP, 81, 8080))))
                .hasMessage("port tcp 8080 is published twice");
        assertThat(new NetworkRequest(true, List.of(tcp, new Service(Service.Protocol.UDP, 80, 8080))).services()).hasSize(2);
    }

    @Test
    void attachmentGivesTheBareAddress() {
        assertThat(new Attachment("blt00000000", "02:b0:0a:d2:03:05", "10.210.3.5/24", "10.210.3.1", List.of(), "10.210.3.0/24", List.of()).ip())
                .isEqualTo("10.210.3.5");
    }

    @Test
    void privateNetworkValuesRejectWhatCannotWork() throws Exception {
        var key = "mFRcAObIBlaxdrs3F6WlhHkhzJTzcJ+xzx8t7Dy2jXs=";
        assertThatThrownBy(() -> new WireGuardPeer("short", "192.0.2.1:51820", List.of())).hasMessageContaining("public key");
        assertThatThrownBy(() -> new WireGuardPeer(key, "node.example:51820", List.of())).hasMessageContaining("IPv4:port");
        assertThatThrownBy(() -> new WireGuardPeer(key, "192.0.2.1:0", List.of())).hasMessageContaining("port out of range");
        assertThatThrownBy(() -> new WireGuardPeer(key, "192.0.2.1:51820", List.of("10.4.0.1/14"))).hasMessageContaining("host bits");
        assertThatThrownBy(() -> new PrivateNetwork(PrivateAddressing.DEFAULT, 64, "wg0", 53)).hasMessageContaining("node index 64");
        assertThatThrownBy(() -> NetworkConfig.defaults("10.1.2.3").withPrivateNetwork(new PrivateNetwork(PrivateAddressing.DEFAULT, 1, "wg0", 53)))
                .hasMessageContaining("private pool");
        assertThatThrownBy(() -> new DnsSnapshot(List.of(), List.of(
                new DnsMachine("m1", "alpha", Optional.empty(), Optional.empty(), "10.0.0.2"),
                new DnsMachine("m1", "alpha", Optional.empty(), Optional.empty(), "10.0.0.3")))).hasMessageContaining("listed twice");
        assertThatThrownBy(() -> new DnsMachine("m1", "Alpha", Optional.empty(), Optional.empty(), "10.0.0.2")).hasMessageContaining("namespace");
    }
}
