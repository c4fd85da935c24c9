# syntax=docker/dockerfile:1
# Multi-stage: the SDK image builds and publishes `lakehouse`; the ASP.NET runtime image runs it.
# glibc-based (Debian) images on purpose: ParquetSharp ships a native Arrow/Parquet library for linux-x64
# and linux-arm64 built against glibc, so Alpine (musl) would not load it.

ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
# Restore first, from the project files only, so the package layer is cached across source edits.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY protos/ protos/
COPY src/Lakehouse.Flight.Core/Lakehouse.Flight.Core.csproj src/Lakehouse.Flight.Core/
COPY src/Lakehouse.Flight.Storage/Lakehouse.Flight.Storage.csproj src/Lakehouse.Flight.Storage/
COPY src/Lakehouse.Flight.Ingestion/Lakehouse.Flight.Ingestion.csproj src/Lakehouse.Flight.Ingestion/
COPY src/Lakehouse.Flight.Server/Lakehouse.Flight.Server.csproj src/Lakehouse.Flight.Server/
COPY src/Lakehouse.Flight.Client/Lakehouse.Flight.Client.csproj src/Lakehouse.Flight.Client/
COPY src/Lakehouse.Flight.Cli/Lakehouse.Flight.Cli.csproj src/Lakehouse.Flight.Cli/
RUN dotnet restore src/Lakehouse.Flight.Cli/Lakehouse.Flight.Cli.csproj
COPY src/ src/
RUN dotnet publish src/Lakehouse.Flight.Cli/Lakehouse.Flight.Cli.csproj -c Release --no-restore -o /app /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
WORKDIR /app
COPY --from=build /app ./
# The lake lives on a volume owned by the image's non-root user ($APP_UID is set by the base image).
RUN mkdir -p /data && chown "$APP_UID" /data
VOLUME /data
# Workstation GC (the runtime's default), as measured: server GC streamed scans no faster and raised peak memory
# against the cache budget (docs/decisions.md D31; docs/benchmarks.md "Server GC against workstation GC").
# The runtimeconfig also carries System.GC.ConserveMemory=7 (D31).
ENV LAKEHOUSE_DATA_DIR=/data
EXPOSE 8815 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "lakehouse.dll"]
# Listening beyond loopback requires credentials: pass them by configuration, e.g.
#   -e Lakehouse__Auth__Users__0__Name=quant -e Lakehouse__Auth__Users__0__Password=... -e Lakehouse__Auth__Users__0__Role=reader
CMD ["serve", "--host", "0.0.0.0", "--demo"]
