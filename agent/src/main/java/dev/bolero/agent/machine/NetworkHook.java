package dev.bolero.agent.machine;

/**
 * The network of a machine: attached when it is created (so a published port taken by another machine is refused at
 * once), given to each run as a tap and the guest's address, detached when the machine is deleted.
 */
final class NetworkHook implements MachineHook {
    private final MachineNetwork network;

    NetworkHook(MachineNetwork network) {
        this.network = network;
    }

    @Override
    public void created(MachineRecord machine) {
        network.attach(machine.id(), machine.namespace(), machine.config());
    }

    @Override
    public void prepare(Launch launch) {
        network.attachment(launch.machine().id()).ifPresent(launch::network);
    }

    @Override
    public void deleted(String machineId) {
        network.detach(machineId);
    }
}
