package dev.bolero.runtime.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GuestConfigTest {

    private static GuestConfig withNetwork(String ip, String gateway) {
        return new GuestConfig(List.of("x"), List.of(), "/", "0:0", "h", "/dev/vda",
                Optional.ofNullable(ip), Optional.ofNullable(gateway), List.of());
    }

    @Test
    void defaultsEncodeWithoutNetworkKeys() {
        String s = new String(GuestConfig.of(List.of("true"), "m").encode(), StandardCharsets.UTF_8);
        assertThat(s).isEqualTo("arg|true|workdir|/|user|0:0|hostname|m|root|/dev/vda|".replace('|', '\0'));
    }

    @Test
    void rejectsMalformedValues() {
        assertThatThrownBy(() -> GuestConfig.of(List.of(), "m")).hasMessageContaining("argv");
        assertThatThrownBy(() -> GuestConfig.of(List.of("a\0b"), "m")).hasMessageContaining("NUL");
        assertThatThrownBy(() -> withNetwork("10.0.0.300/24", null)).hasMessageContaining("ip");
        assertThatThrownBy(() -> withNetwork("10.0.0.3", null)).hasMessageContaining("ip");
        assertThatThrownBy(() -> withNetwork(null, "10.0.0.1")).hasMessage("gateway needs ip");
        assertThatThrownBy(() -> new GuestConfig(List.of("x"), List.of("NOEQUALS"), "/", "0:0", "h", "/dev/vda",
                Optional.empty(), Optional.empty(), List.of())).hasMessageContaining("NAME=value");
        assertThatThrownBy(() -> new GuestConfig(List.of("x"), List.of(), "rel", "0:0", "h", "/dev/vda",
                Optional.empty(), Optional.empty(), List.of())).hasMessageContaining("absolute");
        assertThat(withNetwork("10.210.0.5/24", "10.210.0.1").ip()).contains("10.210.0.5/24");
    }

    @Test
    void searchDomainsFollowTheNameServersAndMalformedOnesAreRefused() {
        var config = new GuestConfig(List.of("true"), List.of(), "/", "0:0", "m", "/dev/vda",
                Optional.of("10.0.5.2/24"), Optional.of("10.0.5.1"), List.of("10.0.5.1"), List.of("alpha.internal"));
        assertThat(new String(config.encode(), StandardCharsets.UTF_8))
                .endsWith("|dns|10.0.5.1|search|alpha.internal|".replace('|', '\0'));
        assertThatThrownBy(() -> new GuestConfig(List.of("true"), List.of(), "/", "0:0", "m", "/dev/vda",
                Optional.empty(), Optional.empty(), List.of(), List.of("bad domain"))).hasMessageContaining("search");
    }

    @Test
    void mountsArePairsOfSerialAndPathAfterEverythingElse() {
        var config = new GuestConfig(List.of("true"), List.of(), "/", "0:0", "m", "/dev/vda", Optional.empty(),
                Optional.empty(), List.of(), List.of(), List.of(), List.of(new GuestConfig.Mount("vol_0123456789abcdef", "/data"),
                        new GuestConfig.Mount("vol_b", "/var/lib/db")));
        assertThat(new String(config.encode(), StandardCharsets.UTF_8))
                .endsWith("|root|/dev/vda|mount|vol_0123456789abcdef:/data|mount|vol_b:/var/lib/db|".replace('|', '\0'));
        assertThatThrownBy(() -> new GuestConfig.Mount("vol_0123456789abcdef0", "/data"))
                .hasMessageContaining("serial must be 1-20");
        assertThatThrownBy(() -> new GuestConfig.Mount("vol_a", "/")).hasMessageContaining("not /");
    }

    @Test
    void aWorkloadOnATerminalOrWithItsStdinOpenSaysSoLast() {
        var base = GuestConfig.of(List.of("sh"), "m");
        assertThat(new String(base.encode(), StandardCharsets.UTF_8)).doesNotContain("tty").doesNotContain("stdin");
        for (var stdin : List.of(GuestConfig.Stdin.TERMINAL, GuestConfig.Stdin.PIPE)) {
            var config = new GuestConfig(base.argv(), base.env(), base.workdir(), base.user(), base.hostname(),
                    base.root(), base.ip(), base.gateway(), base.dns(), base.search(), base.secrets(), base.mounts(),
                    stdin);
            assertThat(new String(config.encode(), StandardCharsets.UTF_8)).endsWith(stdin == GuestConfig.Stdin.PIPE
                    ? "|stdin|open|".replace('|', '\0') : "|tty|24x80|".replace('|', '\0'));
        }
    }

    @Test
    void rejectsAConfigOverTheFrameLimit() {
        String big = "x".repeat(FrameCodec.MAX_PAYLOAD);
        assertThatThrownBy(() -> GuestConfig.of(List.of(big), "m")).hasMessageContaining("1 MiB");
    }

    @Test
    void secretsReplaceTheVariableOfTheirNameGoAsFilesAndNeverShowTheirValues() {
        var config = new GuestConfig(List.of("true"), List.of("PATH=/bin", "DB_PASSWORD=from-image"), "/", "0:0", "m",
                "/dev/vda", Optional.empty(), Optional.empty(), List.of(), List.of(),
                List.of(new GuestSecret.Variable("DB_PASSWORD", "s3cr3t-env"),
                        new GuestSecret.File("/run/secrets/tls.key", "s3cr3t=file\nline 2")), List.of());
        assertThat(new String(config.encode(), StandardCharsets.UTF_8)).isEqualTo(
                ("arg|true|env|PATH=/bin|env|DB_PASSWORD=s3cr3t-env|secret_file|/run/secrets/tls.key=s3cr3t=file\nline 2|"
                        + "workdir|/|user|0:0|hostname|m|root|/dev/vda|").replace('|', '\0'));
        assertThat(config.toString()).doesNotContain("s3cr3t").contains("env DB_PASSWORD", "file /run/secrets/tls.key");
        assertThat(config.secrets().toString()).doesNotContain("s3cr3t");
    }

    @Test
    void malformedSecretsAreRefusedWithoutTheirValues() {
        assertThatThrownBy(() -> new GuestSecret.Variable("A", "s3cr3t\0")).hasMessage("secret env A: value contains a NUL")
                .message().doesNotContain("s3cr3t");
        assertThatThrownBy(() -> new GuestSecret.File("/key", "v")).hasMessageContaining("path is not valid");
        assertThatThrownBy(() -> new GuestSecret.File("/run/a=b", "v")).hasMessageContaining("path is not valid");
        assertThatThrownBy(() -> new GuestConfig(List.of("true"), List.of(), "/", "0:0", "m", "/dev/vda",
                Optional.empty(), Optional.empty(), List.of(), List.of(),
                List.of(new GuestSecret.Variable("A", "1"), new GuestSecret.Variable("A", "2")), List.of()))
                .hasMessage("a secret's variable or file is given twice");
    }
}
