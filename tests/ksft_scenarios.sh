#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# One kind of VMA change per test, check ok after each (kselftest harness).
exec vma_scenarios
