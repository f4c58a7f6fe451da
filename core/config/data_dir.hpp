#pragma once
// Where kvtier's read-only data lives: presets/ (hardware.json, models.json) and
// sample_traces/ (the sample database and scenarios, the default scenario among them).
// Installed it is <prefix>/share/kvtier; a build tree holds a copy in <build>/share/kvtier
// (made at build time), so <the executable's folder>/../share/kvtier finds it in both.
// The program says where its executable is (the core does not guess); $KVTIER_DATA_DIR
// overrides. No path of the source checkout is compiled in.
#include <string>

namespace kvtier {

// <exeDir>/../share/kvtier.
std::string dataDirBesideExecutable(const std::string& exeDir);
// Set once by a program at start, before presets are loaded.
void setDataDir(const std::string& dir);
// $KVTIER_DATA_DIR when set and not empty, else what setDataDir gave, else "".
std::string dataDir();
// <dataDir()>/sample_traces/default.kvtier.json, or "" when there is no data folder.
std::string defaultScenarioPath();
// The shipped documents (MODEL.md, POLICIES.md, BOUNDS.md, GUI.md, SCENARIO.md):
// $KVTIER_DOC_DIR when set, else <dataDir()>/../doc/kvtier (<prefix>/share/doc/kvtier
// installed, <build>/share/doc/kvtier in a build tree), or "" when there is no data folder.
std::string docDir();
// <docDir()>/<name>, e.g. docPath("MODEL.md"), or "" when docDir() is "".
std::string docPath(const std::string& name);

} // namespace kvtier
