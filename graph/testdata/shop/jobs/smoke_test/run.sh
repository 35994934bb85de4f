#!/bin/bash
echo checking
