/**
 * Machine lifecycle on a node: the service behind the node API, one supervisor per running machine, and the
 * merge of an image's configuration with a machine's overrides into what {@code bolero-init} runs.
 */
package dev.bolero.agent.machine;
