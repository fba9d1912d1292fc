# Runs every appliance test: ruby appliance/test/run.rb (exit status non-zero on any failure).
require "minitest/autorun"
require_relative "helper"

Dir[File.join(__dir__, "*_test.rb")].sort.each { |file| require file }
