using AlertBroker.Cli;

return await AlertBrokerCommand.Create().Parse(args).InvokeAsync().ConfigureAwait(false);
