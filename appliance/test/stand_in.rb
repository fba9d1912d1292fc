# A plain-Ruby stand-in for the ManageIQ pieces miq_memlog.rb touches.
require_relative "stand_in/rails"
require_relative "stand_in/workers"
