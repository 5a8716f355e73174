/**
 * Machine lifecycle on a node: a thin service behind the node API, one {@link dev.bolero.agent.machine.MachineRunner}
 * per machine (its commands handled in order, hooks at fixed points of each run, the restart policy after it), and the
 * merge of an image's configuration with a machine's overrides into what {@code bolero-init} runs.
 */
package dev.bolero.agent.machine;
