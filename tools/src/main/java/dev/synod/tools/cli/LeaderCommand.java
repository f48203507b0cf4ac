package dev.synod.tools.cli;

import dev.synod.api.v1.MemberRequest;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code leader transfer ID}: hands leadership to a voter (for maintenance); returns once it leads. */
@Command(name = "leader", description = "Leadership of the cluster.", subcommands = {LeaderCommand.Transfer.class})
final class LeaderCommand implements Callable<Integer> {
  @ParentCommand
  SynodCli root;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(spec.commandLine(), "leader needs a command: transfer");
  }

  @Command(name = "transfer", description = "Hand leadership to voter ID; returns once it leads.")
  static final class Transfer implements Callable<Integer> {
    @ParentCommand
    LeaderCommand parent;

    @Parameters(index = "0", paramLabel = "ID", description = "The voter to lead.")
    int id;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = DurationConverter.class,
        description = "How long the transfer may take (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() {
      try (AdminCalls calls = new AdminCalls(AdminCalls.NodeCommandContext.of(parent.root), timeout)) {
        MembersCommand.show(parent.root.printer(),
            calls.change(stub -> stub.transferLeader(MemberRequest.newBuilder().setId(id).build())));
        return ExitCodes.OK;
      }
    }
  }
}
