#pragma once
// The example policy of core/policies/README.md, registered only in tst_policy_properties.
#include "core/policies/policy.hpp"

namespace kvtier::test {

PolicyEntry hotReadsPolicy();

} // namespace kvtier::test
