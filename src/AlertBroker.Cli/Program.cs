using AlertBroker.Cli;

return await AlertBrokerCommand.InvokeAsync(args).ConfigureAwait(false);
