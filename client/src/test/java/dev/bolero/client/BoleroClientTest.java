package dev.bolero.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.testing.ContractHttpClient;
import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.core.MachineSpec;
import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a real control-plane server on SQLite. */
class BoleroClientTest {
    /** Every answer the client reads whole is checked against the server's /v1/openapi.json. */
    private static final ContractHttpClient CONTRACT = new ContractHttpClient("/v1/openapi.json");

    private static final String ADMIN = "admin-token-client-test-0123456789";

    @TempDir
    Path dir;

    private Server server;
    private BoleroClient admin;

    @BeforeEach
    void start() {
        server = Server.start(ServerConfig.of("127.0.0.1", 0, dir).withTokens(Optional.of(ADMIN), Optional.empty()));
        admin = new BoleroClient(URI.create("http://127.0.0.1:" + server.port()), ADMIN, CONTRACT);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void namespaces_fleets_and_tokens_round_trip_and_a_namespace_token_sees_only_its_namespace() {
        admin.createNamespace("alpha");
        admin.createNamespace("beta");
        admin.createFleet("alpha", new FleetSpec("web", FleetStrategy.BINPACK, null, Map.of("disk", "ssd")));
        assertThat(admin.namespaces()).extracting(n -> n.name()).containsExactly("alpha", "beta", "default");
        assertThat(admin.fleet("alpha", "web").strategy()).isEqualTo(FleetStrategy.BINPACK);

        var alpha = new BoleroClient(URI.create("http://127.0.0.1:" + server.port()),
                admin.createToken("alpha").token(), CONTRACT);
        assertThat(alpha.fleets("alpha")).extracting(f -> f.name()).containsExactly("web");
        assertThat(alpha.namespaces()).extracting(n -> n.name()).containsExactly("alpha");
        assertThatThrownBy(() -> alpha.fleets("beta")).isInstanceOfSatisfying(ClientException.class, e -> {
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.code()).isEqualTo("not_found");
        });
        assertThatThrownBy(alpha::nodes).isInstanceOf(ClientException.class);
    }

    @Test
    void lists_longer_than_a_page_are_followed_to_the_end_each_item_once() {
        var names = new java.util.TreeSet<String>(java.util.Set.of("default"));
        for (int i = 0; i < 1001; i++) {
            names.add("ns-" + i);
            admin.createNamespace("ns-" + i);
        }
        assertThat(admin.namespaces()).extracting(n -> n.name()).containsExactlyInAnyOrderElementsOf(names)
                .doesNotHaveDuplicates();
        assertThat(admin.audit(null, new AuditFilter(Optional.empty(), Optional.empty(), Optional.of("createNamespace"))))
                .hasSize(1001).extracting(e -> e.seq()).doesNotHaveDuplicates().isSorted();
    }

    @Test
    void the_gateway_routes_list_fleets_with_an_http_service_and_a_poll_holding_the_version_gets_it_again() {
        admin.createNamespace("zeta");
        var service = new MachineSpec.HttpService(8080, true, MachineSpec.HttpService.AutoStop.STOP, true, 1, 60,
                new MachineSpec.HttpService.Concurrency(10, 20));
        admin.createFleet("zeta", new FleetSpec("web", null, null, Map.of(),
                MachineSpec.builder("registry.test/web:1").httpService(service).overlay()));
        admin.createFleet("zeta", new FleetSpec("worker", null, null, Map.of(),
                MachineSpec.builder("registry.test/worker:1").overlay()));

        var routes = admin.gatewayRoutes(Optional.empty(), Duration.ZERO);
        assertThat(routes.fleets()).extracting(f -> f.namespace() + "/" + f.fleet()).containsExactly("zeta/web");
        assertThat(routes.fleets().getFirst().httpService()).isEqualTo(service);
        assertThat(routes.fleets().getFirst().machines()).isEmpty();
        assertThat(admin.gatewayRoutes(Optional.of(routes.version()), Duration.ofSeconds(1)).version())
                .as("nothing changed within the wait").isEqualTo(routes.version());

        var zeta = new BoleroClient(URI.create("http://127.0.0.1:" + server.port()),
                admin.createToken("zeta").token(), CONTRACT);
        assertThatThrownBy(() -> zeta.gatewayRoutes(Optional.empty(), Duration.ZERO))
                .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.status()).isEqualTo(403));
    }

    @Test
    void a_fleets_config_round_trips_and_an_update_bumps_its_version() {
        admin.createNamespace("delta");
        var v1 = MachineSpec.builder("registry.test/app:1").guest(1, 384).env("A", "1")
                .restart(new MachineSpec.Restart("no", null)).overlay();
        var created = admin.createFleet("delta", new FleetSpec("web", null, null, Map.of(), v1));
        assertThat(created.config()).isEqualTo(v1);
        assertThat(created.configVersion()).isEqualTo(1);

        var v2 = MachineSpec.builder("registry.test/app:2").env(Map.of()).overlay();
        var updated = admin.updateFleet("delta", "web", new FleetSpec(null, FleetStrategy.BINPACK, "eu", Map.of(), v2));
        assertThat(updated.config()).isEqualTo(v2);
        assertThat(updated.configVersion()).isEqualTo(2);
        assertThat(updated.outdatedMachines()).isZero();
        assertThat(admin.fleet("delta", "web")).isEqualTo(updated);
        assertThatThrownBy(() -> admin.createMachine("delta", "web", new CreateClusterMachine(null, null, null,
                null, null)))
                .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.code()).isEqualTo("failed_precondition"));
    }

    @Test
    void errors_carry_the_api_code_and_an_unreachable_server_is_unavailable() {
        admin.createNamespace("gamma");
        assertThatThrownBy(() -> admin.createNamespace("gamma")).isInstanceOfSatisfying(ClientException.class,
                e -> assertThat(e.code()).isEqualTo("conflict"));
        assertThatThrownBy(() -> admin.machine("gamma", "nope")).isInstanceOfSatisfying(ClientException.class,
                e -> assertThat(e.code()).isEqualTo("not_found"));
        var wrong = new BoleroClient(URI.create("http://127.0.0.1:" + server.port()), "not-a-token-at-all-xx",
                CONTRACT);
        assertThatThrownBy(wrong::namespaces).isInstanceOfSatisfying(ClientException.class,
                e -> assertThat(e.status()).isEqualTo(401));
        server.close();
        try {
            assertThatThrownBy(admin::namespaces).isInstanceOfSatisfying(ClientException.class, e -> {
                assertThat(e.status()).isZero();
                assertThat(e.code()).isEqualTo("unavailable");
            });
        } finally {
            server = Server.start(ServerConfig.of("127.0.0.1", 0, dir).withTokens(Optional.of(ADMIN),
                    Optional.empty()));
        }
    }
}
