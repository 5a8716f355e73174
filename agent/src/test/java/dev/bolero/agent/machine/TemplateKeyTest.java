package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.core.MachineSpec;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TemplateKeyTest {
    private static final String DIGEST = "sha256:" + "a".repeat(64);
    private static final MachineSpec BASE = MachineSpec.builder("app/web:1").guest(1, 256).env("MODE", "prod")
            .warmStart(true).build();

    @Test
    void machinesDifferingOnlyInWhatTheNodeActsOnShareAKey() {
        MachineSpec other = BASE.overlay().over(MachineSpec.Overlay.EMPTY).toSpec();
        MachineSpec decorated = MachineSpec.builder("app/web:1").guest(1, 256).env("MODE", "prod").warmStart(true)
                .metadata("team", "blue")
                .service(new MachineSpec.Service("tcp", 8080, 18080))
                .check("web", MachineSpec.Check.http(8080, "/"))
                .restart(new MachineSpec.Restart("always", null, null, null))
                .autoDestroy(true).httpService(MachineSpec.HttpService.on(8080))
                .build();

        assertThat(TemplateKey.of("alpha", decorated, DIGEST)).isEqualTo(TemplateKey.of("alpha", BASE, DIGEST))
                .isEqualTo(TemplateKey.of("alpha", other, DIGEST));
    }

    @Test
    void whatTheGuestSeesOrWhoseItIsMakesAnotherKey() {
        TemplateKey base = TemplateKey.of("alpha", BASE, DIGEST);

        assertThat(TemplateKey.of("beta", BASE, DIGEST)).as("another namespace").isNotEqualTo(base);
        assertThat(TemplateKey.of("alpha", BASE, "sha256:" + "b".repeat(64))).as("another image").isNotEqualTo(base);
        assertThat(TemplateKey.of("alpha", with(b -> b.env("MODE", "dev")), DIGEST)).as("env").isNotEqualTo(base);
        assertThat(TemplateKey.of("alpha", with(b -> b.guest(1, 512)), DIGEST)).as("memory").isNotEqualTo(base);
        assertThat(TemplateKey.of("alpha", with(b -> b.guest(2, 256)), DIGEST)).as("vCPUs").isNotEqualTo(base);
        assertThat(TemplateKey.of("alpha", with(b -> b.init(new MachineSpec.Init(null, java.util.List.of("sleep"),
                null, null))), DIGEST)).as("init").isNotEqualTo(base);
        assertThat(TemplateKey.of("alpha", with(b -> b.network(new MachineSpec.Network(false))), DIGEST))
                .as("network").isNotEqualTo(base);
    }

    @Test
    void aKeyIsThirtyTwoHexDigits() {
        assertThat(TemplateKey.of("alpha", BASE, DIGEST).value()).matches("[0-9a-f]{32}");
        assertThat(TemplateKey.of("alpha", with(b -> b.env(Map.of("A", "1", "B", "2"))), DIGEST))
                .as("env order does not matter")
                .isEqualTo(TemplateKey.of("alpha", with(b -> b.env(new java.util.TreeMap<>(Map.of("B", "2", "A", "1")))),
                        DIGEST));
    }

    private static MachineSpec with(java.util.function.Consumer<MachineSpec.Builder> change) {
        MachineSpec.Builder b = MachineSpec.builder("app/web:1").guest(1, 256).env("MODE", "prod").warmStart(true);
        change.accept(b);
        return b.build();
    }
}
