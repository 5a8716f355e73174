package dev.bolero.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.wire.GatewayRoutes;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.ValidationException;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoutesTest {
    private static final FleetKey WEB_ALPHA = new FleetKey("alpha", "web");
    private static final FleetKey WEB_BETA = new FleetKey("beta", "web");

    private static Routes routes() {
        return Routes.builder("example.test")
                .route(Route.builder(WEB_ALPHA).backend(new Backend("m1", "10.0.0.1", 8080, true)).build())
                .route(Route.builder(WEB_BETA).backend(new Backend("m2", "10.0.0.2", 8080, true)).build())
                .hostname("www.alpha.org", WEB_ALPHA)
                .build();
    }

    @Test
    void aFleetAnswersToItsOwnNameUnderTheDomainAndToItsCustomNames() {
        Routes routes = routes();
        assertThat(routes.resolve("web.alpha.example.test")).map(Route::fleet).contains(WEB_ALPHA);
        assertThat(routes.resolve("Web.Alpha.Example.Test.:8443")).map(Route::fleet).contains(WEB_ALPHA);
        assertThat(routes.resolve("www.alpha.org")).map(Route::fleet).contains(WEB_ALPHA);
        assertThat(routes.resolve("web.beta.example.test")).map(Route::fleet).contains(WEB_BETA);
    }

    @Test
    void namesNoFleetOwnsResolveToNothing() {
        Routes routes = routes();
        assertThat(routes.resolve("api.alpha.example.test")).isEmpty();
        assertThat(routes.resolve("web.example.test")).isEmpty();
        assertThat(routes.resolve("x.web.alpha.example.test")).isEmpty();
        assertThat(routes.resolve(null)).isEmpty();
    }

    @Test
    void aCustomHostNameMayNotLieUnderTheClusterDomain() {
        assertThatThrownBy(() -> Routes.builder("example.test").hostname("web.beta.example.test", WEB_ALPHA))
                .isInstanceOf(ValidationException.class)
                .hasMessageContaining("names under example.test are the fleets' own");
    }

    @Test
    void aCustomHostNameBelongsToOneFleet() {
        assertThatThrownBy(() -> Routes.builder("example.test").hostname("www.org", WEB_ALPHA).hostname("WWW.org", WEB_BETA))
                .isInstanceOf(ValidationException.class)
                .hasMessageContaining("already attached to alpha/web");
    }

    @Test
    void theFeedsCustomHostnamesRouteToTheirFleetWithTheirUploadsAndOnesUnderTheDomainAreLeftOut() {
        var service = MachineSpec.HttpService.on(8080);
        var feed = new GatewayRoutes("v1", List.of(
                new GatewayRoutes.FleetRoute("alpha", "web", service, List.of(), List.of(
                        new GatewayRoutes.CustomHostname("www.alpha.org", "sha256:abc"),
                        new GatewayRoutes.CustomHostname("api.alpha.org", null),
                        new GatewayRoutes.CustomHostname("web.beta.example.test", null))),
                new GatewayRoutes.FleetRoute("beta", "web", service, List.of(), List.of())));

        Routes routes = RouteFeed.routes("example.test", feed);

        assertThat(routes.resolve("www.alpha.org")).map(Route::fleet).contains(WEB_ALPHA);
        assertThat(routes.resolve("api.alpha.org")).map(Route::fleet).contains(WEB_ALPHA);
        assertThat(routes.uploadedCertificate("www.alpha.org")).contains("sha256:abc");
        assertThat(routes.uploadedCertificate("api.alpha.org")).as("ACME's").isEmpty();
        assertThat(routes.resolve("web.beta.example.test")).as("not shadowed by alpha's claim").map(Route::fleet)
                .contains(WEB_BETA);
    }
}
