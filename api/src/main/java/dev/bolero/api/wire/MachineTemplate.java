package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.api.GuestResources;
import dev.bolero.api.InitOverrides;
import dev.bolero.api.NetworkOptions;
import dev.bolero.api.RestartPolicy;
import dev.bolero.api.ServicePort;
import dev.bolero.api.StopRequest;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A fleet's machine config: the fields of a machine create ({@link CreateMachineSpec}) that its machines share, every
 * one optional, {@code image} included. Its values follow the same rules as a machine create's: it is validated by
 * {@link CreateMachineSpec} itself.
 *
 * <p>How a create's body and a template combine ({@link #over}): a field set in the body replaces the template's
 * whole (a body's {@code guest} replaces the template's {@code guest}, {@code services} replaces {@code services}),
 * except {@code env}, merged key by key with the body's value winning.
 *
 * @param image the image its machines run, unless their create names one; none when null
 * @param env merged under each machine's {@code env}; empty when absent
 * @throws ApiException {@code invalid_argument} naming the bad field, as a machine create does
 */
public record MachineTemplate(
        String image, GuestResources guest, InitOverrides init, Map<String, String> env, RestartPolicy restart,
        Boolean autoDestroy, StopRequest stop, NetworkOptions network, List<ServicePort> services) {

    public MachineTemplate {
        var checked = new CreateMachineSpec(null, image, guest, init, env, null, restart, autoDestroy, stop, null,
                network, services, null, null);
        env = checked.env();
        services = checked.services();
    }

    /**
     * This template's fields over {@code base}'s: each field set here wins, the others are {@code base}'s; {@code env}
     * is {@code base}'s with this one's keys put over it.
     */
    public MachineTemplate over(MachineTemplate base) {
        var mergedEnv = new TreeMap<>(base.env);
        mergedEnv.putAll(env);
        return new MachineTemplate(or(image, base.image), or(guest, base.guest), or(init, base.init), mergedEnv,
                or(restart, base.restart), or(autoDestroy, base.autoDestroy), or(stop, base.stop),
                or(network, base.network), or(services, base.services));
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
