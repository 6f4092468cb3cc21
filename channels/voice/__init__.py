"""The hotline family: a PBX's signed CTI events and Twilio Voice (IVR in TwiML), as CallEvents."""
