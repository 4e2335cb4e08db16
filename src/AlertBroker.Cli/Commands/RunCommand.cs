using System.CommandLine;
using System.Runtime.InteropServices;
using AlertBroker.Redis;
using AlertBroker.Web;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Scoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker run</c>: the streaming worker as a .NET Generic Host. Configuration, later sources winning:
/// <c>appsettings.json</c> beside the program, <c>--config FILE</c>, environment variables (<c>AlertBroker__Kafka__BootstrapServers</c>, …),
/// then the command-line options below. Everything is validated before the first message is fetched.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "An extra JSON configuration file (same shape as appsettings.json)." };
        var bootstrap = new Option<string?>("--bootstrap-servers") { Description = "Kafka bootstrap servers (AlertBroker:Kafka:BootstrapServers)." };
        var topics = new Option<string[]>("--topic") { Description = "Input topic; repeat for several (AlertBroker:Kafka:Topics).", AllowMultipleArgumentsPerToken = true };
        var pattern = new Option<string?>("--topic-pattern") { Description = "Subscribe by regular expression, e.g. ^ztf_.* (AlertBroker:Kafka:TopicPattern)." };
        var group = new Option<string?>("--group") { Description = "Consumer group id (AlertBroker:Kafka:GroupId)." };
        var output = new Option<string?>("--output-topic") { Description = "Classification topic (AlertBroker:Kafka:OutputTopic)." };
        var dead = new Option<string?>("--dead-letter-topic") { Description = "Dead-letter topic (AlertBroker:Kafka:DeadLetterTopic)." };
        var batch = new Option<int?>("--batch-size") { Description = "Most messages per batch (AlertBroker:Kafka:BatchSize)." };
        var batchMs = new Option<int?>("--batch-timeout-ms") { Description = "Longest wait to fill a batch (AlertBroker:Kafka:BatchTimeoutMs)." };
        var kafkaSecurity = new Option<KafkaSecurityProtocol?>("--kafka-security-protocol") { Description = "Plaintext, Ssl, SaslPlaintext or SaslSsl (AlertBroker:Kafka:SecurityProtocol)." };
        var kafkaMechanism = new Option<KafkaSaslMechanism?>("--kafka-sasl-mechanism") { Description = "Plain, ScramSha256 or ScramSha512 (AlertBroker:Kafka:SaslMechanism); the password only from AlertBroker__Kafka__SaslPassword." };
        var kafkaUser = new Option<string?>("--kafka-sasl-username") { Description = "SASL user (AlertBroker:Kafka:SaslUsername)." };
        var kafkaCa = new Option<string?>("--kafka-ssl-ca") { Description = "PEM CA of the brokers' certificates (AlertBroker:Kafka:SslCaLocation)." };
        var kafkaCert = new Option<string?>("--kafka-ssl-cert") { Description = "PEM client certificate for mutual TLS (AlertBroker:Kafka:SslCertificateLocation)." };
        var kafkaKey = new Option<string?>("--kafka-ssl-key") { Description = "PEM private key of --kafka-ssl-cert (AlertBroker:Kafka:SslKeyLocation); its password only from AlertBroker__Kafka__SslKeyPassword." };
        var redis = new Option<string?>("--redis") { Description = "Redis endpoint(s) of the state store (AlertBroker:State:Redis); user, password and TLS: --redis-user, --redis-tls, … or AlertBroker:Redis." }.RedisEndpoints();
        var redisSecurity = new RedisCliOptions();
        var inMemory = new Option<bool>("--in-memory") { Description = "Keep object state in process memory instead of Redis (single worker, lost on exit)." };
        var model = new Option<string[]>("--model") { Description = "Model package directory with model.json and model.onnx; repeat for several, each serving the surveys its model.json declares (AlertBroker:Model:Paths). Default: per survey the newest package under models/." };
        var shadowTopic = new Option<string?>("--shadow-topic") { Description = "Topic of the shadow models' classifications (AlertBroker:Kafka:ShadowTopic)." };
        var randomModel = new Option<bool>("--random-model") { Description = "No trained model: use one with random weights (smoke tests only; its classes mean nothing)." };
        var modelRegistryRedis = new Option<string?>("--model-registry-redis") { Description = "Follow the model registry in this Redis and hot-swap to each promoted model (AlertBroker:Model:RegistryRedis)." }.NotBlank();
        var modelRegistryDir = new Option<string?>("--model-registry-dir") { Description = "Follow a local directory model registry (AlertBroker:Model:RegistryDirectory)." }.MustExist(PathKind.Directory);
        var device = new Option<string?>("--device") { Description = "Where ONNX Runtime runs the model: cpu or cuda (AlertBroker:Model:ExecutionProvider; cuda needs the GPU build and CUDA 13 + cuDNN 9, and never falls back to cpu)." };
        device.AcceptOnlyFromAmong("cpu", "cuda");
        var registry = CliHelpers.SchemaRegistryOption();
        var schemaDir = CliHelpers.SchemaDirOption().MustExist(PathKind.Directory);
        var httpPort = new Option<int?>("--http-port") { Description = "Port of /healthz, /readyz and /metrics; 0 disables (AlertBroker:Telemetry:HttpPort)." };
        var httpAddress = new Option<string?>("--http-address") { Description = "Address they listen on, 127.0.0.1 by default (AlertBroker:Telemetry:HttpAddress)." };
        var otlp = new Option<string?>("--otlp-endpoint") { Description = "OTLP collector endpoint for metrics and traces (AlertBroker:Telemetry:OtlpEndpoint)." };
        var allAlerts = new Option<bool>("--all-alerts") { Description = "Publish probabilities for every alert, not only for transient candidates (AlertBroker:Candidates:Enabled=false; by default an alert with a low real/bogus score, a negative difference flux, on a known asteroid or a star is stored and scored but published without probabilities; thresholds under AlertBroker:Candidates)." };
        var minDetections = new Option<int?>("--min-detections") { Description = "Publish probabilities only once the object has at least N detections up to the alert, in the packet or its stored light curve (AlertBroker:Candidates:MinDetections; default 1: from the first detection); fewer are stored, scored and published without probabilities, reason too-few-detections." };
        var web = new Option<bool>("--web") { Description = "Also serve the web view (pages under /ui/, JSON under /api/) on the same listener (AlertBroker:Web:Enabled)." };
        var command = new Command("run", "Run the streaming worker: consume alerts from Kafka, keep object state, classify, publish classifications (Ctrl-C or SIGTERM stops it gracefully).")
        {
            config, bootstrap, topics, pattern, group, output, dead, shadowTopic, batch, batchMs, kafkaSecurity, kafkaMechanism, kafkaUser, kafkaCa, kafkaCert, kafkaKey,
            redis, inMemory, model, randomModel, modelRegistryRedis, modelRegistryDir, device, registry, schemaDir, httpPort, httpAddress, otlp, web, allAlerts, minDetections,
        };
        redisSecurity.AddTo(command);

        // Each pair is two answers to one question, and one of them was dropped without a word: --in-memory kept state in
        // the process while --redis named a store; --model's package was served and --random-model ignored.
        CliHelpers.NotBoth(command, inMemory, redis, "--in-memory and --redis are two state stores: give one (--in-memory keeps state in this process, --redis in that Redis)");
        CliHelpers.NotBoth(command, randomModel, model, "--random-model and --model are two model sources: give one (--model serves that package, --random-model random weights)");
        command.SetAction(async (parse, ct) =>
        {
            var overrides = new Dictionary<string, string?>(StringComparer.Ordinal);
            void Set(string key, string? value)
            {
                if (value is not null)
                {
                    overrides[key] = value;
                }
            }

            Set("AlertBroker:Kafka:BootstrapServers", parse.GetValue(bootstrap));
            var topicList = parse.GetValue(topics) ?? [];
            for (var i = 0; i < topicList.Length; i++)
            {
                Set($"AlertBroker:Kafka:Topics:{i}", topicList[i]);
            }

            Set("AlertBroker:Kafka:TopicPattern", parse.GetValue(pattern));
            Set("AlertBroker:Kafka:GroupId", parse.GetValue(group));
            Set("AlertBroker:Kafka:OutputTopic", parse.GetValue(output));
            Set("AlertBroker:Kafka:DeadLetterTopic", parse.GetValue(dead));
            Set("AlertBroker:Kafka:ShadowTopic", parse.GetValue(shadowTopic));
            Set("AlertBroker:Kafka:BatchSize", parse.GetValue(batch)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Set("AlertBroker:Kafka:BatchTimeoutMs", parse.GetValue(batchMs)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Set("AlertBroker:Kafka:SecurityProtocol", parse.GetValue(kafkaSecurity)?.ToString());
            Set("AlertBroker:Kafka:SaslMechanism", parse.GetValue(kafkaMechanism)?.ToString());
            Set("AlertBroker:Kafka:SaslUsername", parse.GetValue(kafkaUser));
            Set("AlertBroker:Kafka:SslCaLocation", parse.GetValue(kafkaCa));
            Set("AlertBroker:Kafka:SslCertificateLocation", parse.GetValue(kafkaCert));
            Set("AlertBroker:Kafka:SslKeyLocation", parse.GetValue(kafkaKey));
            Set("AlertBroker:State:Redis", parse.GetValue(redis));
            redisSecurity.AddOverrides(parse, overrides);
            if (parse.GetValue(inMemory))
            {
                Set("AlertBroker:State:Store", nameof(StateStoreKind.InMemory));
            }

            var modelList = parse.GetValue(model) ?? [];
            for (var i = 0; i < modelList.Length; i++)
            {
                Set($"AlertBroker:Model:Paths:{i}", modelList[i]);
            }

            Set("AlertBroker:Model:RegistryRedis", parse.GetValue(modelRegistryRedis));
            Set("AlertBroker:Model:RegistryDirectory", parse.GetValue(modelRegistryDir));
            Set("AlertBroker:Model:ExecutionProvider", parse.GetValue(device));
            if (parse.GetValue(randomModel))
            {
                Set("AlertBroker:Model:AllowRandom", "true");
            }

            if (parse.GetValue(allAlerts))
            {
                Set("AlertBroker:Candidates:Enabled", "false");
            }

            Set("AlertBroker:Candidates:MinDetections", parse.GetValue(minDetections)?.ToString(System.Globalization.CultureInfo.InvariantCulture));

            Set("AlertBroker:Schemas:RegistryUrl", parse.GetValue(registry));
            Set("AlertBroker:Schemas:SchemaDirectory", parse.GetValue(schemaDir));
            Set("AlertBroker:Telemetry:HttpPort", parse.GetValue(httpPort)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Set("AlertBroker:Telemetry:HttpAddress", parse.GetValue(httpAddress));
            Set("AlertBroker:Telemetry:OtlpEndpoint", parse.GetValue(otlp));
            if (parse.GetValue(web))
            {
                Set("AlertBroker:Web:Enabled", "true");
            }

            return await RunHostAsync(parse.GetValue(config), overrides, ct).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// Builds and runs the worker host (an ASP.NET Core <see cref="WebApplication"/>: the worker's services plus its HTTP
    /// endpoints). Exit codes (<see cref="WorkerExit"/>): 0 clean stop (SIGTERM and SIGINT included, at any moment),
    /// 2 invalid configuration, 3 model unusable (or ONNX Runtime, or the requested execution provider), 4 a dependency
    /// unreachable or refusing the credentials at start (Kafka not answering or refusing the credentials or the TLS
    /// handshake, Redis, the schema registry not registering the output schema), 70 fatal runtime error (librdkafka cannot
    /// be loaded, the consume loop failed, anything unexpected).
    /// </summary>
    public static async Task<int> RunHostAsync(string? configFile, IReadOnlyDictionary<string, string?> overrides, CancellationToken cancellationToken)
    {
        // SIGTERM/SIGINT are a request to stop cleanly at any moment, from here on: before the host exists (nothing to
        // undo), while it starts (it stops once started), and while it runs (drain, commit, leave the group). The host's
        // own console lifetime handles them too once it starts; `run` is invoked without System.CommandLine's handler,
        // which would end the process with 143 after two seconds, in the middle of a drain.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        try
        {
            return await RunHostCoreAsync(configFile, overrides, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return WorkerExit.CleanStop;
        }
    }

    private static async Task<int> RunHostCoreAsync(string? configFile, IReadOnlyDictionary<string, string?> overrides, CancellationToken cancellationToken)
    {
        if (CliHelpers.ConfigFileProblem(configFile))
        {
            return 2;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (configFile is not null && !CliHelpers.TryAddJsonConfiguration(builder.Configuration, configFile))
        {
            return 2;
        }

        // The shipped models are the default, below every other source: any configured path, registry or --random-model
        // wins. Per survey, the newest package under models/ that declares it is used.
        if (!overrides.ContainsKey("AlertBroker:Model:AllowRandom") && ModelCatalog.FindModelsDirectory() is { } shipped)
        {
            ((IConfigurationBuilder)builder.Configuration).Sources.Insert(0, new MemoryConfigurationSource
            {
                InitialData = [new KeyValuePair<string, string?>("AlertBroker:Model:SearchDirectory", shipped)],
            });
        }

        // Environment variables are already in (the host's defaults); re-add them after --config so they win over it.
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(overrides);
        // Start-up failures are reported below in plain words; the host's own stack-trace log of them would bury that.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Critical);

        // Every /readyz probe while not ready logged a framework "fail:" line (a Kubernetes probe every few seconds); the
        // worker says why it is not ready in its own warnings, and /readyz's body names the failing check.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical);
        if (!CliHelpers.TryLoadKafka())
        {
            return 70;
        }

        WarnModelIgnoredForRegistry(builder.Configuration, overrides);
        builder.AddAlertBrokerWorker();
        builder.AddAlertBrokerHttp();
        var webEnabled = builder.Configuration["AlertBroker:Web:Enabled"];
        if (webEnabled is not null && !bool.TryParse(webEnabled, out _))
        {
            CliHelpers.Stderr.MarkupLine("[red]invalid configuration:[/] AlertBroker:Web:Enabled must be true or false.");
            return 2;
        }

        var serveWeb = webEnabled is not null && bool.Parse(webEnabled);

        // The web view is served on the endpoints' listener; with HttpPort 0 there is none, and --web served nothing while
        // the log said "Web view: worker mode".
        if (serveWeb && builder.Configuration["AlertBroker:Telemetry:HttpPort"] is { } port && port.Trim() == "0")
        {
            CliHelpers.Stderr.MarkupLine("[red]invalid configuration:[/] AlertBroker:Web:Enabled (--web) needs AlertBroker:Telemetry:HttpPort: the web view is served on that listener, and 0 turns it off; give a port.");
            return 2;
        }

        if (serveWeb)
        {
            builder.AddAlertBrokerWebInWorker();
        }

        // An object where a setting takes one value, one value where it takes a list, an enum given as a number: the
        // binder's "Cannot create instance of type 'System.String'" (no key named, "fatal", exit 70) or a setting quietly
        // left at its default. One line each, before the host starts.
        if (ConfigurationKeyCheck.ShapeProblems(builder.Configuration) is { Count: > 0 } shapes)
        {
            return InvalidConfiguration(shapes);
        }

        try
        {
            await using var app = builder.Build();

            // A mistyped key would otherwise be ignored without a word (its setting keeping the default); warn, don't fail.
            ConfigurationKeyCheck.Warn(app.Configuration, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AlertBroker.Configuration"));
            app.MapAlertBrokerWorkerEndpoints();
            if (serveWeb)
            {
                app.MapAlertBrokerWeb();
            }

            cancellationToken.ThrowIfCancellationRequested();
            var exit = app.Services.GetRequiredService<WorkerExit>();
            var hosted = app.Services.GetServices<IHostedService>().ToList(); // RunAsync disposes the host's services
            await ((IHost)app).RunAsync(cancellationToken).ConfigureAwait(false);
            exit.FailOnFaultedServices(hosted);

            if (exit.Code != WorkerExit.CleanStop)
            {
                CliHelpers.Stderr.MarkupLine($"[red]the worker stopped on an error (exit code {exit.Code}):[/] " + Markup.Escape(exit.Reason ?? "?"));
            }

            return exit.Code;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped (SIGTERM) while starting: nothing was consumed yet.
            return WorkerExit.CleanStop;
        }
        catch (OptionsValidationException e)
        {
            return InvalidConfiguration([e]);
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OptionsValidationException))
        {
            // Several sections failed validation: the host reports each as its own exception.
            return InvalidConfiguration(e.InnerExceptions.Cast<OptionsValidationException>());
        }
        catch (Exception e) when (ConfigurationErrors.IsHostStartError(e))
        {
            return ConfigurationErrors.ReportHostStartError(e, "(choose another port with --http-port, or 0 to disable the endpoints)");
        }
        catch (Exception e) when (ModelCli.IsModelUnusable(e) || e is ModelUnavailableException)
        {
            return ModelCli.ReportModelUnusable(e);
        }
        catch (AlertBroker.Registry.RegistryException e)
        {
            // A registry record that cannot be read (hand-edited, truncated) leaves the worker without a model it can
            // trust: "a model cannot be used" (3), naming the record — not "fatal" (70), which means a bug or librdkafka.
            CliHelpers.Stderr.MarkupLine("[red]model registry:[/] " + Markup.Escape(e.Message));
            return WorkerExit.ModelUnusable;
        }
        catch (SchemaRegistrationException e)
        {
            CliHelpers.Stderr.MarkupLine("[red]schema registry:[/] " + Markup.Escape(e.Message));
            return 4;
        }
        catch (RedisConnectionFailedException e)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return WorkerExit.CleanStop;
            }

            CliHelpers.Stderr.MarkupLine("[red]Redis:[/] " + Markup.Escape(e.Message));
            return 4;
        }
        catch (KafkaConnectionFailedException e)
        {
            CliHelpers.Stderr.MarkupLine("[red]Kafka:[/] " + Markup.Escape(e.Message));
            return 4;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Nothing ends in an unhandled exception: whatever else stops the start is a fatal error with a plain message.
            CliHelpers.Stderr.MarkupLine("[red]fatal:[/] " + Markup.Escape(e.GetType().Name + ": " + e.Message));
            return WorkerExit.FatalRuntimeError;
        }
    }

    /// <summary>
    /// A worker that follows a model registry scores with the registry's active models and never loads
    /// <c>AlertBroker:Model:Path</c>/<c>Paths</c>: <c>--model</c> beside a registry (given as an option, in a file or in the
    /// environment) was dropped without a word, and the operator believed the worker served that package.
    /// </summary>
    internal static void WarnModelIgnoredForRegistry(IConfiguration configuration, IReadOnlyDictionary<string, string?> overrides)
    {
        var registry = NullIfBlank(configuration["AlertBroker:Model:RegistryRedis"]) is { } redis ? $"the registry in Redis {RedisConnectionFactory.Describe(redis)}"
            : NullIfBlank(configuration["AlertBroker:Model:RegistryDirectory"]) is { } directory ? $"the registry directory {directory}"
            : null;
        if (registry is null || !overrides.Keys.Any(k => k.StartsWith("AlertBroker:Model:Paths:", StringComparison.Ordinal)))
        {
            return;
        }

        CliHelpers.Stderr.MarkupLine("[yellow]warning:[/] " + Markup.Escape(
            $"--model is ignored: the worker follows {registry} and scores with its active models (each promotion and rollback applies). "
            + "To serve a fixed package, run without a model registry (--model-registry-redis/--model-registry-dir, AlertBroker:Model:RegistryRedis/RegistryDirectory); "
            + "to serve this one through the registry: alertbroker models push, then models promote."));

        static string? NullIfBlank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
    }

    private static int InvalidConfiguration(IEnumerable<OptionsValidationException> errors) =>
        InvalidConfiguration(errors.SelectMany(e => e.Failures));

    private static int InvalidConfiguration(IEnumerable<string> failures)
    {
        CliHelpers.Stderr.MarkupLine("[red]invalid configuration:[/]");
        foreach (var failure in failures)
        {
            CliHelpers.Stderr.MarkupLine("  " + Markup.Escape(failure));
        }

        return 2;
    }
}
