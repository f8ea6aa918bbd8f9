#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Merge statistics: one merge case or missed-merge reason per test, on the
# `stats` and `unmerged` files (kselftest harness, KTAP).
exec merge_scenarios
