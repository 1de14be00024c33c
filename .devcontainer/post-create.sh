#!/usr/bin/env bash
# Runs once when the container is created: the notebook stack at the versions the course is tested with,
# then the build and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# .NET Interactive is frozen at its last release; the course is tested with exactly this kernel. A local tool
# cannot be a Jupyter kernel, so it is installed globally and registered with Jupyter (.net-csharp).
sudo apt-get update -qq
sudo apt-get install -y -qq jupyter-nbconvert python3-nbclient
dotnet tool update -g Microsoft.dotnet-interactive --version 1.0.712001
export PATH="$PATH:$HOME/.dotnet/tools"
dotnet interactive jupyter install

dotnet tool restore
dotnet build RnnNotebooks.sln
# Stops here, saying why, on a machine the course cannot run on (e.g. the container came up as linux-arm64).
dotnet run --project src/RnnNotebooks.Cli --no-build -- doctor --no-run
dotnet test RnnNotebooks.sln
