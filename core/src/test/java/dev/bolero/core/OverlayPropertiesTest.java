package dev.bolero.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The overlay rule's algebra: fleets, bodies and defaults may be stacked in any grouping. */
class OverlayPropertiesTest {

    @Property
    void mergingIsAssociative(@ForAll("overlays") MachineSpec.Overlay a, @ForAll("overlays") MachineSpec.Overlay b,
                              @ForAll("overlays") MachineSpec.Overlay c) {
        assertThat(a.over(b).over(c)).isEqualTo(a.over(b.over(c)));
    }

    @Property
    void theEmptyOverlayIsTheIdentityOnBothSides(@ForAll("overlays") MachineSpec.Overlay a) {
        assertThat(a.over(MachineSpec.Overlay.EMPTY)).isEqualTo(a);
        assertThat(MachineSpec.Overlay.EMPTY.over(a)).isEqualTo(a);
    }

    @Property
    void aSetFieldWinsAndEveryBaseEnvKeySurvives(@ForAll("overlays") MachineSpec.Overlay top,
                                                  @ForAll("overlays") MachineSpec.Overlay base) {
        var merged = top.over(base);
        if (top.guest() != null) assertThat(merged.guest()).isEqualTo(top.guest());
        if (top.guest() == null) assertThat(merged.guest()).isEqualTo(base.guest());
        Map<String, String> onTop = top.env() == null ? Map.of() : top.env();
        Map<String, String> below = base.env() == null ? Map.of() : base.env();
        onTop.forEach((k, v) -> assertThat(merged.env()).containsEntry(k, v));
        below.forEach((k, v) -> assertThat(merged.env()).containsEntry(k, onTop.getOrDefault(k, v)));
    }

    @Provide
    Arbitrary<MachineSpec.Overlay> overlays() {
        var image = Arbitraries.of("a:1", "b:2").injectNull(0.5);
        var guest = Combinators.combine(Arbitraries.integers().between(1, 64).injectNull(0.3),
                Arbitraries.integers().between(64, 4096).injectNull(0.3))
                .as((c, m) -> new MachineSpec.Guest(c, m, null)).injectNull(0.5);
        var env = Arbitraries.maps(Arbitraries.of("A", "B", "C"), Arbitraries.of("1", "2")).injectNull(0.4);
        var restart = Arbitraries.of(MachineSpec.Restart.POLICIES).map(p -> new MachineSpec.Restart(p, null))
                .injectNull(0.5);
        var autoDestroy = Arbitraries.of(true, false).injectNull(0.5);
        var driver = Arbitraries.of(Driver.class).injectNull(0.6);
        var metadata = Arbitraries.maps(Arbitraries.of("team", "tier"), Arbitraries.of("a", "b")).injectNull(0.4);
        var mounts = Arbitraries.of(List.of(new MachineSpec.Mount("data", "/data")),
                List.of(new MachineSpec.Mount("a", "/a"), new MachineSpec.Mount("b", "/b"))).injectNull(0.6);
        return Combinators.combine(image, guest, env, restart, autoDestroy, driver, metadata, mounts)
                .as((i, g, e, r, a, d, m, v) -> MachineSpec.builder().image(i).guest(g).env(e).restart(r)
                        .autoDestroy(a).driver(d).metadata(m).mounts(v).overlay());
    }
}
